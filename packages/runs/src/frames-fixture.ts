// Synthetic metric frames (packages/k6-output/FRAMES.md) for tests and benchmarks: the series a
// simple HTTP script makes k6 write (checks, data, the eight http_req_* metrics, http_reqs,
// iterations, iteration_duration, vus, vus_max) plus a few custom metrics, with tagged series per
// endpoint, and log-normal latencies binned exactly as Stampede's k6 bins them.
import { Readable } from 'node:stream'
import { createGzip, gzipSync } from 'node:zlib'
import type { Bins, Frame, Series } from '@stampede/k6-output'
import { prng } from '@stampede/k6-output/testing'

/** The mapping of Stampede's k6: DDSketch's log mapping with relative accuracy 0.004. */
export const FRAME_GAMMA = (1 + 0.004) / (1 - 0.004)

export interface SyntheticFramesOptions {
  /** Periods (frames) to write; the last one is marked final. */
  periods: number
  /** When the output started (Unix ms); the first period runs to the next whole second. Default 2027-01-16 12:00:00.250. */
  start?: number
  /** HTTP requests per second (default 50). */
  requestsPerSecond?: number
  /** PRNG seed (default 14). */
  seed?: number
}

const ENDPOINTS = [
  { name: 'http://target/api/items', method: 'GET', status: '200', expected: 'true', median: 40 },
  { name: 'http://target/api/items/{id}', method: 'GET', status: '200', expected: 'true', median: 25 },
  { name: 'http://target/api/orders', method: 'POST', status: '201', expected: 'true', median: 90 },
  { name: 'http://target/api/items/{id}', method: 'GET', status: '404', expected: 'false', median: 8 },
] as const
const HTTP_TRENDS = ['http_req_blocked', 'http_req_connecting', 'http_req_duration', 'http_req_receiving', 'http_req_sending', 'http_req_tls_handshaking', 'http_req_waiting'] as const
const SCENARIO = { group: '', scenario: 'default' }


/** A trend series being filled: values binned as FRAMES.md says. */
class TrendAcc {
  count = 0
  sum = 0
  min = Infinity
  max = -Infinity
  zero = 0
  pos = new Map<number, number>()
  add(v: number): void {
    this.count++
    this.sum += v
    this.min = Math.min(this.min, v)
    this.max = Math.max(this.max, v)
    if (v < 1e-300) this.zero++
    else {
      const i = Math.floor(Math.log(v) / Math.log(FRAME_GAMMA))
      this.pos.set(i, (this.pos.get(i) ?? 0) + 1)
    }
  }
  series(metric: string, tags?: Record<string, string>): Series {
    const bins: Bins = {}
    if (this.zero > 0) bins.zero = this.zero
    const idx = [...this.pos.keys()].sort((a, b) => a - b)
    const runs: number[][] = []
    let run: number[] | undefined
    let next = 0
    for (const i of idx) {
      if (run && i - next <= 3) {
        for (; next < i; next++) run.push(0)
        run.push(this.pos.get(i)!)
      } else {
        run = [i, this.pos.get(i)!]
        runs.push(run)
      }
      next = i + 1
    }
    if (runs.length > 0) bins.pos = runs
    return { metric, type: 'trend', contains: 'time', ...(tags ? { tags } : {}), count: this.count, sum: this.sum, min: this.min, max: this.max, bins }
  }
}

/** A series' sort key (FRAMES.md: series sorted by key). */
const keyOf = (metric: string, tags?: Record<string, string>): string => `${metric}\0${tags ? JSON.stringify(Object.entries(tags).sort()) : ''}`
/** Tag sets are made once each (below), so a series is found by the identity of its tag set. */
const tagIds = new WeakMap<object, number>()
let nextTagId = 0
const fastKey = (metric: string, tags?: Record<string, string>): string => {
  if (!tags) return metric
  let id = tagIds.get(tags)
  if (id === undefined) tagIds.set(tags, (id = nextTagId++))
  return `${metric}\0${id}`
}
const ENDPOINT_TAGS = ENDPOINTS.map((e) => ({ expected_response: e.expected, ...SCENARIO, method: e.method, name: e.name, status: e.status }))
const CHECK_STATUS = { check: 'status is 2xx', ...SCENARIO }
const CHECK_BODY = { check: 'body has items', ...SCENARIO }
const ORDERS = { ...SCENARIO, name: 'orders' }

/** The frames of one k6 process, period by period. */
export function* syntheticFrames(opts: SyntheticFramesOptions): Generator<Frame> {
  const random = prng(opts.seed ?? 14)
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  const logNormal = (median: number, sigma: number): number => Math.exp(Math.log(median) + sigma * normal())
  const rps = opts.requestsPerSecond ?? 50
  const first = opts.start ?? Date.UTC(2027, 0, 16, 12, 0, 0, 250)
  for (let seq = 0; seq < opts.periods; seq++) {
    const start = seq === 0 ? first : Math.floor(first / 1000) * 1000 + seq * 1000
    const end = seq === opts.periods - 1 ? start + 400 : Math.floor(first / 1000) * 1000 + (seq + 1) * 1000
    const share = (end - start) / 1000
    const series = new Map<string, Series>()
    const trends = new Map<string, { acc: TrendAcc; metric: string; tags?: Record<string, string> }>()
    const trend = (metric: string, tags: Record<string, string> | undefined, v: number) => {
      const k = fastKey(metric, tags)
      let t = trends.get(k)
      if (!t) trends.set(k, (t = { acc: new TrendAcc(), metric, ...(tags ? { tags } : {}) }))
      t.acc.add(v)
    }
    const add = (metric: string, type: 'counter' | 'rate', contains: string, tags: Record<string, string> | undefined, value: number) => {
      const k = fastKey(metric, tags)
      let s = series.get(k)
      if (!s) series.set(k, (s = { metric, type, contains, ...(tags ? { tags } : {}), count: 0, ...(type === 'counter' ? { sum: 0 } : { passes: 0 }) }))
      s.count++
      if (type === 'counter') s.sum! += value
      else if (value !== 0) s.passes! += 1
    }
    const both = (metric: string, type: 'counter' | 'rate', contains: string, tags: Record<string, string>, value: number) => {
      add(metric, type, contains, undefined, value)
      add(metric, type, contains, tags, value)
    }
    // A slow minute every ten minutes, so windows differ.
    const slow = Math.floor(start / 60_000) % 10 === 3 ? 3 : 1
    const requests = Math.max(1, Math.round(rps * share * (0.9 + 0.2 * random())))
    for (let r = 0; r < requests; r++) {
      const which = r % 10 === 9 ? 3 : r % 3
      const e = ENDPOINTS[which]!
      const tags = ENDPOINT_TAGS[which]!
      const waiting = logNormal(e.median * slow, 0.6)
      const values: Record<(typeof HTTP_TRENDS)[number], number> = {
        http_req_blocked: r % 50 === 0 ? logNormal(2, 0.5) : logNormal(0.004, 0.4),
        http_req_connecting: r % 50 === 0 ? logNormal(1, 0.5) : 0,
        http_req_tls_handshaking: 0,
        http_req_sending: logNormal(0.02, 0.5),
        http_req_waiting: waiting,
        http_req_receiving: logNormal(0.08, 0.6),
        http_req_duration: 0,
      }
      values.http_req_duration = values.http_req_sending + values.http_req_waiting + values.http_req_receiving
      for (const m of HTTP_TRENDS) {
        trend(m, undefined, values[m])
        trend(m, tags, values[m])
      }
      both('http_reqs', 'counter', 'default', tags, 1)
      both('http_req_failed', 'rate', 'default', tags, e.expected === 'true' ? 0 : 1)
      both('data_sent', 'counter', 'data', SCENARIO, 180 + Math.round(random() * 40))
      both('data_received', 'counter', 'data', SCENARIO, 400 + Math.round(random() * 2000))
      if (r % 2 === 1) {
        both('iterations', 'counter', 'default', SCENARIO, 1)
        trend('iteration_duration', undefined, waiting * 2.1)
        trend('iteration_duration', SCENARIO, waiting * 2.1)
        both('checks', 'rate', 'default', CHECK_STATUS, e.expected === 'true' ? 1 : 0)
        both('checks', 'rate', 'default', CHECK_BODY, random() < 0.995 ? 1 : 0)
        both('errors', 'rate', 'default', SCENARIO, e.expected === 'true' ? 0 : 1)
        both('items_listed', 'counter', 'default', SCENARIO, Math.round(random() * 20))
        trend('order_latency', undefined, waiting * 1.3)
        trend('order_latency', ORDERS, waiting * 1.3)
      }
    }
    const out: Series[] = [...series.values()]
    for (const t of trends.values()) out.push(t.acc.series(t.metric, t.tags))
    const vus = Math.min(50, 1 + seq)
    for (const metric of ['vus', 'vus_max', 'queue_depth'] as const) {
      const v = metric === 'vus_max' ? 50 : metric === 'vus' ? vus : Math.round(random() * 100)
      out.push({ metric, type: 'gauge', contains: 'default', count: 1, min: v, max: v, last: v, last_t: start + Math.round((end - start) / 2) })
    }
    out.sort((a, b) => (keyOf(a.metric, a.tags) < keyOf(b.metric, b.tags) ? -1 : 1))
    yield { v: 1, seq, start, end, ...(seq === opts.periods - 1 ? { final: true } : {}), mapping: { kind: 'log', gamma: FRAME_GAMMA }, series: out }
  }
}

/** The frames as the `metrics` artifact's bytes (NDJSON, gzipped). */
export function syntheticFrameFile(opts: SyntheticFramesOptions): Buffer {
  const lines: string[] = []
  for (const f of syntheticFrames(opts)) lines.push(JSON.stringify(f) + '\n')
  return gzipSync(lines.join(''))
}

/** The frames as a gzipped stream, produced as it is read (for long runs). */
export function syntheticFrameStream(opts: SyntheticFramesOptions): Readable {
  const lines = (function* () {
    for (const f of syntheticFrames(opts)) yield JSON.stringify(f) + '\n'
  })()
  return Readable.from(lines).pipe(createGzip())
}
