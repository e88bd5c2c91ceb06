import http from 'k6/http'
import * as metrics from 'k6/metrics'

const hits = new metrics.Counter('hits')

export const options = { iterations: 1, thresholds: { 'hits{kind:home}': ['count>=0'], hits: ['count==1'] } }

export default function () {
  http.get('__TARGET__/')
  hits.add(1, { kind: 'home' })
}
