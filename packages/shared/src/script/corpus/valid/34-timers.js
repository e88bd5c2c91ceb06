import http from 'k6/http'
import { setTimeout, clearTimeout } from 'k6/timers'

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

export default async function () {
  const never = setTimeout(() => { throw new Error('cleared timer fired') }, 10000)
  clearTimeout(never)
  await new Promise((resolve) => setTimeout(resolve, 50))
  http.get('__TARGET__/')
}
