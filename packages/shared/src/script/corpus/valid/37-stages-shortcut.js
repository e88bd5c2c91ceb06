import http from 'k6/http'
import { sleep } from 'k6'

export const options = {
  stages: [
    { duration: '1s', target: 2 },
    { duration: '1s', target: 0 },
  ],
  thresholds: { http_req_failed: ['rate<0.01'] },
}

export default function () {
  http.get('__TARGET__/')
  sleep(0.3)
}
