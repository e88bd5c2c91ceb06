import http from 'k6/http'
import { check } from 'k6'

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  const responses = http.batch([
    ['GET', '__TARGET__/a'],
    { method: 'GET', url: '__TARGET__/b', params: { tags: { name: 'b' } } },
    '__TARGET__/c',
  ])
  check(responses[0], { 'first ok': (r) => r.status === 200 })
}
