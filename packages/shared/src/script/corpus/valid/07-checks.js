import http from 'k6/http'
import { check } from 'k6'

export const options = { iterations: 2, thresholds: { checks: ['rate==1'] } }

export default function () {
  const res = http.get('__TARGET__/')
  check(res, {
    'is 200': (r) => r.status === 200,
    'has body': (r) => r.body.length > 0,
    'fast': (r) => r.timings.duration < 5000,
  }, { kind: 'home' })
}
