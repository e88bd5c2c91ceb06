import http from 'k6/http'

export const options = {
  scenarios: {
    s: { executor: 'constant-arrival-rate', rate: 4, timeUnit: '1s', duration: '1s', preAllocatedVUs: 2, maxVUs: 2 },
  },
  thresholds: { http_req_failed: ['rate<0.01'] },
}

export default function () {
  http.get('__TARGET__/')
}
