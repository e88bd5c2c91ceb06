// Breakpoint test with an arrival rate: k6 starts iterations at a rising rate whatever the
// response times are (an open model), so the rate at which thresholds break is the capacity.
import http from 'k6/http'
import { check } from 'k6'

const BASE_URL = __ENV.BASE_URL || 'https://quickpizza.grafana.com'

export const options = {
  scenarios: {
    breakpoint: {
      executor: 'ramping-arrival-rate',
      startRate: 10,
      timeUnit: '1s', // rates are iterations per second
      preAllocatedVUs: 20, // VUs created up front...
      maxVUs: 500, // ...and the most k6 may add when responses slow down
      stages: [{ duration: '10m', target: 500 }], // from 10/s up to 500/s
    },
  },
  thresholds: {
    // Stop as soon as the system breaks: the rate reached at that moment is the breakpoint.
    http_req_failed: [{ threshold: 'rate<0.05', abortOnFail: true }],
    http_req_duration: [{ threshold: 'p(95)<2000', abortOnFail: true }],
  },
}

export default function () {
  const res = http.get(`${BASE_URL}/`)
  check(res, { 'status is 200': (r) => r.status === 200 })
  // No sleep(): with arrival-rate executors the rate, not think time, paces the iterations.
}
