// Soak test: average load for a long time, to find what only shows up after hours: memory
// leaks, exhausted connection pools, growing queues, full disks.
import http from 'k6/http'
import { check, sleep } from 'k6'

const BASE_URL = __ENV.BASE_URL || 'https://quickpizza.grafana.com'

export const options = {
  stages: [
    { duration: '2m', target: 20 },
    { duration: '50m', target: 20 }, // the soak itself: keep it within the platform's duration cap
    { duration: '2m', target: 0 },
  ],
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<500'],
  },
}

export default function () {
  const res = http.get(`${BASE_URL}/`)
  check(res, { 'status is 200': (r) => r.status === 200 })
  sleep(1)
}
