import http from 'k6/http'
import { check, group, sleep } from 'k6'

const options = { vus: 1, iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

function scenario() {
  group('home', () => {
    check(http.get('__TARGET__/'), { 'ok': (r) => r.status === 200 })
  })
  sleep(0.01)
}

export { options, scenario as default }
