// Stress test: load above the usual average, held long enough to see whether response times
// and errors stay acceptable when the system is busier than usual.
import http from 'k6/http'
import { check, sleep } from 'k6'

const BASE_URL = __ENV.BASE_URL || 'https://quickpizza.grafana.com'

export const options = {
  stages: [
    { duration: '2m', target: 100 }, // ramp up well above average load
    { duration: '5m', target: 100 }, // hold
    { duration: '2m', target: 0 }, // ramp down
  ],
  thresholds: {
    http_req_failed: ['rate<0.02'],
    // abortOnFail stops the test early once the system is clearly overwhelmed,
    // delayAbortEval waits 30 s so the first slow requests of the ramp do not end it.
    http_req_duration: [{ threshold: 'p(95)<1500', abortOnFail: true, delayAbortEval: '30s' }],
  },
}

export default function () {
  const res = http.get(`${BASE_URL}/`)
  check(res, { 'status is 200': (r) => r.status === 200 })
  sleep(1)
}
