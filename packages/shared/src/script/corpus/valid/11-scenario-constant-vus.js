import http from 'k6/http'
import { sleep } from 'k6'

export const options = {
  scenarios: { steady: { executor: 'constant-vus', vus: 1, duration: '1s' } },
  thresholds: { http_req_failed: ['rate<0.01'] },
}

export default function () {
  http.get('__TARGET__/')
  sleep(0.2)
}
