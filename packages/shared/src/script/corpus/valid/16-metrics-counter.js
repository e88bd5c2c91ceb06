import http from 'k6/http'
import { Counter } from 'k6/metrics'

const requestsMade = new Counter('requests_made')

export const options = { iterations: 2, thresholds: { requests_made: ['count==2'] } }

export default function () {
  http.get('__TARGET__/')
  requestsMade.add(1)
}
