import http from 'k6/http'

export const options = {
  scenarios: {
    s: { executor: 'ramping-arrival-rate', startRate: 1, timeUnit: '1s', preAllocatedVUs: 2, maxVUs: 2, stages: [{ target: 4, duration: '1s' }, { target: 0, duration: '1s' }] },
  },
  thresholds: { http_req_failed: ['rate<0.01'] },
}

export default function () {
  http.get('__TARGET__/')
}
