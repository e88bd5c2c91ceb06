// Ramping VUs with a scenario: the same shape as `stages`, written as a named scenario so you
// can add more scenarios (other executors, other functions) next to it later.
import http from 'k6/http'
import { check, sleep } from 'k6'

const BASE_URL = __ENV.BASE_URL || 'https://quickpizza.grafana.com'

export const options = {
  scenarios: {
    browse: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: '30s', target: 10 },
        { duration: '1m', target: 10 },
        { duration: '30s', target: 0 },
      ],
      // When a stage lowers the VU count, give running iterations 10 s to finish.
      gracefulRampDown: '10s',
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    // A threshold on a submetric: only the requests of this scenario.
    'http_req_duration{scenario:browse}': ['p(95)<500'],
  },
}

export default function () {
  const res = http.get(`${BASE_URL}/`, { tags: { name: 'home' } }) // `name` groups URLs in the results
  check(res, { 'status is 200': (r) => r.status === 200 })
  sleep(Math.random() * 2 + 0.5) // randomised think time spreads the requests out
}
