// Spike test: a sudden, short surge far above normal traffic (a sale, a push notification),
// then a quick drop. It shows whether the system survives and recovers.
import http from 'k6/http'
import { check, sleep } from 'k6'

const BASE_URL = __ENV.BASE_URL || 'https://quickpizza.grafana.com'

export const options = {
  stages: [
    { duration: '10s', target: 5 }, // baseline
    { duration: '20s', target: 200 }, // the spike
    { duration: '30s', target: 200 },
    { duration: '10s', target: 5 }, // back to baseline: does it recover?
    { duration: '30s', target: 5 },
    { duration: '10s', target: 0 },
  ],
  thresholds: {
    // Spikes tolerate more errors and latency than normal load, but not unlimited.
    http_req_failed: ['rate<0.05'],
    http_req_duration: ['p(95)<2000'],
  },
}

export default function () {
  const res = http.get(`${BASE_URL}/`)
  check(res, { 'status is 200': (r) => r.status === 200 })
  sleep(1)
}
