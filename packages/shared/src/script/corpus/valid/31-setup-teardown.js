import http from 'k6/http'
import { check } from 'k6'

export const options = { iterations: 2, thresholds: { checks: ['rate==1'] } }

// setup() runs once before the load; what it returns is passed to every iteration and teardown.
export function setup() {
  const res = http.post('__TARGET__/login', { user: 'u', pass: 'p' })
  return { token: `t-${res.status}` }
}

export default function (data) {
  const res = http.get('__TARGET__/me', { headers: { Authorization: `Bearer ${data.token}` } })
  check(res, { 'authorised': (r) => r.status === 200 })
}

export function teardown(data) {
  http.post('__TARGET__/logout', data.token)
}
