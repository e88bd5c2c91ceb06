import http from 'k6/http'
import { sleep } from 'k6'

const BASE_URL = __ENV.BASE_URL || '__TARGET__'

export const options = { vus: 2, iterations: 2, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  http.get(`${BASE_URL}/?vu=${__VU}&iter=${__ITER}`)
  sleep(0.1)
}
