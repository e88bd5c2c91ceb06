import http from 'k6/http'

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

function main() {
  http.get('__TARGET__/')
}

export { main as default }
