import http from 'k6/http'

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  http.put('__TARGET__/x', 'body')
  http.patch('__TARGET__/x', { form: 'field' })
  http.del('__TARGET__/x')
  http.head('__TARGET__/x')
  http.options('__TARGET__/x')
  http.request('GET', '__TARGET__/x', null, { responseType: 'text' })
}
