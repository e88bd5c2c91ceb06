import http from 'k6/http'

export const options = {
  scenarios: {
    s: { executor: 'shared-iterations', vus: 2, iterations: 4, maxDuration: '10s' },
  },
  thresholds: { http_req_failed: ['rate<0.01'] },
}

export default function () {
  http.get('__TARGET__/')
}
