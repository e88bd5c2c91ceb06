import http from 'k6/http'
import { sleep } from 'k6'

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

export default async () => {
  await Promise.all([http.asyncRequest('GET', '__TARGET__/1'), http.asyncRequest('GET', '__TARGET__/2')])
  sleep(0.01)
}
