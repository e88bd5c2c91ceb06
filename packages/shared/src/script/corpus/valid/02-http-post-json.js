import http from 'k6/http'
import { check } from 'k6'

export const options = { iterations: 2, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  const res = http.post('__TARGET__/items', JSON.stringify({ a: 1 }), { headers: { 'Content-Type': 'application/json' } })
  check(res, { 'status 200': (r) => r.status === 200 })
}
