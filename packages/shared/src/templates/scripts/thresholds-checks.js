// Thresholds and checks showcase: checks test each response, thresholds turn the whole run
// into pass or fail. Custom metrics and tags let you set objectives per endpoint.
import http from 'k6/http'
import { check, sleep } from 'k6'
import { Counter, Rate, Trend } from 'k6/metrics'

const BASE_URL = __ENV.BASE_URL || 'https://quickpizza.grafana.com'

// Custom metrics are declared in the init code (outside the default function).
const slowResponses = new Counter('slow_responses')
const homeOk = new Rate('home_ok')
const homeWaiting = new Trend('home_waiting', true) // true: values are times, shown in ms

export const options = {
  vus: 2,
  iterations: 20,
  thresholds: {
    checks: ['rate>0.99'], // at least 99% of all checks pass
    'checks{endpoint:home}': ['rate==1'], // every check tagged endpoint:home passes
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(90)<400', 'p(95)<800', 'max<3000'], // several conditions on one metric
    'http_req_duration{endpoint:home}': ['p(95)<500'], // a submetric: only requests tagged home
    home_ok: ['rate>0.99'],
    home_waiting: ['avg<400'],
    slow_responses: ['count<5'],
  },
}

export default function () {
  const res = http.get(`${BASE_URL}/`, { tags: { endpoint: 'home' } })
  const ok = check(
    res,
    {
      'status is 200': (r) => r.status === 200,
      'body is not empty': (r) => typeof r.body === 'string' && r.body.length > 0,
      'answered within 1 s': (r) => r.timings.duration < 1000,
    },
    { endpoint: 'home' }, // tags for the check samples, used by the checks{endpoint:home} threshold
  )
  homeOk.add(ok)
  homeWaiting.add(res.timings.waiting)
  if (res.timings.duration > 1000) slowResponses.add(1)
  sleep(0.1)
}
