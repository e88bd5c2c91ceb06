import http from 'k6/http'
import { check, fail } from 'k6'

export const options = {
  iterations: 2,
  thresholds: {
    http_req_duration: [{ threshold: 'p(99)<5000', abortOnFail: true, delayAbortEval: '1s' }],
    iteration_duration: ['max<10000'],
    data_received: ['count>0'],
    iterations: ['count==2'],
  },
}

export default function () {
  const res = http.get('__TARGET__/')
  if (!check(res, { 'ok': (r) => r.status === 200 })) fail('unexpected status')
}
