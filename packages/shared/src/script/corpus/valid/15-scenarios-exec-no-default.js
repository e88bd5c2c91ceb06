import http from 'k6/http'

// Every scenario names its own function, so no default export is needed.
export const options = {
  scenarios: {
    readers: { executor: 'shared-iterations', exec: 'read', vus: 1, iterations: 2 },
    writers: { executor: 'per-vu-iterations', exec: 'write', vus: 1, iterations: 1, startTime: '0s', env: { KIND: 'w' }, tags: { role: 'writer' } },
  },
  thresholds: { http_req_failed: ['rate<0.01'] },
}

export function read() {
  http.get('__TARGET__/read')
}

export function write() {
  http.post('__TARGET__/write', __ENV.KIND)
}
