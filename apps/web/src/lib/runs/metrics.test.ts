import { describe, expect, it } from 'vitest'
import type { MetricFrame } from '@stampede/shared'
import { addFrames, metricPoints, requestTable, thresholdLines } from './metrics.ts'

const gamma = (1 + 0.004) / (1 - 0.004)
const bin = (v: number) => Math.floor(Math.log(v) / Math.log(gamma))

/** One second: 10 VUs, `reqs` requests to /a (all ~20 ms) and 2 to /b (~200 ms, one failed), checks 9 of 10. */
function frame(i: number, reqs = 8): MetricFrame {
  const a = { name: 'http://t/a', method: 'GET', status: '200' }
  const b = { name: 'http://t/b', method: 'GET', status: '500' }
  return {
    v: 1,
    seq: i,
    start: 1_000_000 + i * 1000,
    end: 1_001_000 + i * 1000,
    mapping: { kind: 'log', gamma },
    series: [
      { metric: 'vus', type: 'gauge', count: 1, min: 10, max: 10, last: 10, last_t: 1_000_500 + i * 1000 },
      { metric: 'http_reqs', type: 'counter', count: reqs + 2, sum: reqs + 2 },
      { metric: 'http_reqs', type: 'counter', tags: a, count: reqs, sum: reqs },
      { metric: 'http_reqs', type: 'counter', tags: b, count: 2, sum: 2 },
      { metric: 'http_req_failed', type: 'rate', count: reqs + 2, passes: 1 },
      { metric: 'http_req_failed', type: 'rate', tags: b, count: 2, passes: 1 },
      { metric: 'http_req_duration', type: 'trend', count: reqs + 2, sum: reqs * 20 + 400, min: 20, max: 200, bins: { pos: [[bin(20), reqs], [bin(200), 2]] } },
      { metric: 'http_req_duration', type: 'trend', tags: a, count: reqs, sum: reqs * 20, min: 20, max: 20, bins: { pos: [[bin(20), reqs]] } },
      { metric: 'http_req_duration', type: 'trend', tags: b, count: 2, sum: 400, min: 200, max: 200, bins: { pos: [[bin(200), 2]] } },
      { metric: 'checks', type: 'rate', count: 10, passes: 9 },
    ],
  }
}

describe('run metrics for the charts', () => {
  it('keeps one frame per period, ascending, a later copy replacing an earlier one', () => {
    const held = addFrames([frame(2), frame(0)], [frame(1), frame(2, 18)])
    expect(held.map((f) => f.seq)).toEqual([0, 1, 2])
    expect(held[2]!.series[1]!.count).toBe(20)
  })

  it('gives a point per second: VUs, requests/s, failed share, latency quantiles and average, checks', () => {
    const p = metricPoints([frame(0), frame(1)])
    expect(p.time).toEqual([1000, 1001])
    expect(p.vus).toEqual([10, 10])
    expect(p.reqRate).toEqual([10, 10])
    expect(p.failedRate).toEqual([0.1, 0.1])
    expect(p.avg).toEqual([56, 56])
    expect(p.p50[0]).toBeCloseTo(20, 0)
    // Ranks as in k6's summary: 0.95 × 9 = 8.55 lies between the two 200 ms requests.
    expect(p.p95[0]).toBeCloseTo(200, 0)
    expect(p.checksRate).toEqual([0.9, 0.9])
  })

  it('tabulates requests per name from the tagged series, busiest first', () => {
    const rows = requestTable([frame(0), frame(1)])
    expect(rows.map((r) => [r.method, r.name, r.requests, r.failures])).toEqual([
      ['GET', 'http://t/a', 16, 0],
      ['GET', 'http://t/b', 4, 2],
    ])
    expect(rows[0]!.rate).toBe(8)
    expect(rows[1]!.p95).toBeCloseTo(200, 0)
  })

  it('draws thresholds with a plain bound on a charted metric, and only those', () => {
    const lines = thresholdLines([
      { metric: 'http_req_duration', expression: 'p(95)<500', ok: true },
      { metric: 'http_req_failed', expression: 'rate<0.01', ok: false },
      { metric: 'http_reqs', expression: 'count>100', ok: true },
      { metric: 'http_req_duration{name:x}', expression: 'p(99)<900', ok: true },
    ])
    expect(lines).toEqual([
      { chart: 'latency', value: 500, label: 'http_req_duration p(95)<500', ok: true },
      { chart: 'failed', value: 0.01, label: 'http_req_failed rate<0.01', ok: false },
    ])
  })
})
