import http from 'k6/http'

export const options = { iterations: 2, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  http.get('__TARGET__/')
}
