import http from 'k6/http'
import { SharedArray } from 'k6/data'

// A SharedArray is built once in the init context and shared read-only by all VUs.
const users = new SharedArray('users', function () {
  return [{ name: 'ada' }, { name: 'grace' }, { name: 'linus' }]
})

export const options = { vus: 2, iterations: 3, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  const user = users[__ITER % users.length]
  http.get(`__TARGET__/users/${user.name}`)
}
