import http from 'k6/http'
import encoding from 'k6/encoding'
import { check } from 'k6'

export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } }

export default function () {
  const token = encoding.b64encode('user:password')
  const back = encoding.b64decode(token, 'std', 's')
  const url = encoding.b64encode('x?y', 'url')
  check(back, { 'round trip': (s) => s === 'user:password' })
  http.get(`__TARGET__/?u=${url}`, { headers: { Authorization: `Basic ${token}` } })
}
