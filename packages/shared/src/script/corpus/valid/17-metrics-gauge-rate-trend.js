import http from 'k6/http'
import { Gauge, Rate, Trend } from 'k6/metrics'

const lastStatus = new Gauge('last_status')
const okRate = new Rate('ok_rate')
const waiting = new Trend('waiting_time', true)

export const options = {
  iterations: 2,
  thresholds: { ok_rate: ['rate==1'], waiting_time: ['p(95)<5000'], last_status: ['value==200'] },
}

export default function () {
  const res = http.get('__TARGET__/')
  lastStatus.add(res.status)
  okRate.add(res.status === 200, { page: 'home' })
  waiting.add(res.timings.waiting)
}
