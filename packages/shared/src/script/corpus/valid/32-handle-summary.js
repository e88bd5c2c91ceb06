import http from 'k6/http'

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  http.get('__TARGET__/')
}

// handleSummary replaces k6's end-of-test summary with whatever it returns.
export function handleSummary(data) {
  const reqs = data.metrics.http_reqs ? data.metrics.http_reqs.values.count : 0
  return { stdout: `requests: ${reqs}\n` }
}
