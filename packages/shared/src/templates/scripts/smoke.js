// Smoke test: one virtual user for a short while, to prove the script works and the system
// answers at all before any real load is applied. Run it after every script change.
import http from 'k6/http'
import { check, sleep } from 'k6'

// The target comes from the BASE_URL environment variable; the default is a public demo API.
const BASE_URL = __ENV.BASE_URL || 'https://quickpizza.grafana.com'

export const options = {
  vus: 1, // a single virtual user...
  duration: '10s', // ...looping over the default function for 10 seconds
  thresholds: {
    // Fail the run if any request fails or the slowest 5% take longer than 1 s.
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(95)<1000'],
    checks: ['rate==1'],
  },
}

// The default function is one iteration of one virtual user.
export default function () {
  const res = http.get(`${BASE_URL}/`)
  // check() records a pass/fail sample in the `checks` metric; it never stops the iteration.
  check(res, { 'status is 200': (r) => r.status === 200 })
  sleep(1) // think time between iterations, like a real user
}
