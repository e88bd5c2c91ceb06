// The script a new playground opens with: small, safe to run, and showing a threshold.
export const DEFAULT_SCRIPT = `import http from 'k6/http'
import { check, sleep } from 'k6'

export const options = {
  vus: 2,
  duration: '10s',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<500'],
  },
}

export default function () {
  const res = http.get('https://test.k6.io')
  check(res, { 'status is 200': (r) => r.status === 200 })
  sleep(1)
}
`
