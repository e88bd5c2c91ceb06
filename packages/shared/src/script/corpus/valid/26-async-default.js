import http from 'k6/http'

export const options = { iterations: 2, thresholds: { http_req_failed: ['rate<0.01'] } }

export default async function () {
  const res = await http.asyncRequest('GET', '__TARGET__/')
  if (res.status !== 200) throw new Error(`status ${res.status}`)
}
