import http from 'k6/http'

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  const r = http.batch({ home: { method: 'GET', url: '__TARGET__/' }, other: ['GET', '__TARGET__/other'] })
  if (r.home.status !== 200) throw new Error('bad status')
}
