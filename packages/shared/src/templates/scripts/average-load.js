// Average-load test: ramp up to the traffic the system sees on a typical day, hold it, and
// ramp down. The thresholds are the service-level objectives the system must keep.
import http from 'k6/http'
import { check, sleep } from 'k6'

const BASE_URL = __ENV.BASE_URL || 'https://quickpizza.grafana.com'

export const options = {
  // stages make k6 use the ramping-vus executor: each stage moves linearly to `target` VUs.
  stages: [
    { duration: '1m', target: 20 }, // ramp up to the usual 20 concurrent users
    { duration: '3m', target: 20 }, // stay there
    { duration: '1m', target: 0 }, // ramp down
  ],
  thresholds: {
    http_req_failed: ['rate<0.01'], // less than 1% errors
    http_req_duration: ['p(95)<500', 'p(99)<1000'], // 95% under 500 ms, 99% under 1 s
  },
}

export default function () {
  const res = http.get(`${BASE_URL}/`)
  check(res, { 'status is 200': (r) => r.status === 200 })
  sleep(1)
}
