// What the run page charts, computed from the run's metric frames (one per second; see
// packages/k6-output/FRAMES.md): a point per period for VUs, requests/s, failed share, latency
// (p50/p95/p99 from the frame's histogram, average from its sum) and checks; a row per request
// name from the tagged series; and the thresholds that apply to a charted metric.
import { mergeSeries, quantile, type Series } from '@stampede/k6-output'
import type { MetricFrame } from '@stampede/shared'

/** One line of a chart. */
export interface ChartSeries {
  label: string
  values: (number | null)[]
  /** A CSS colour variable, e.g. `--accent`. */
  color: string
  /** Which axis: 'y' (left, default) or 'y2' (right). */
  scale?: 'y' | 'y2'
  format?: (v: number) => string
}

/** Series of equal length: `time` in Unix seconds (uPlot's x), the rest null where the period had no sample. */
export interface MetricPoints {
  time: number[]
  vus: (number | null)[]
  reqRate: (number | null)[]
  failedRate: (number | null)[]
  p50: (number | null)[]
  p95: (number | null)[]
  p99: (number | null)[]
  avg: (number | null)[]
  checksRate: (number | null)[]
}

/** Frames by period, ascending, one per period (a later copy of a period replaces an earlier one). */
export function addFrames(held: readonly MetricFrame[], fresh: readonly MetricFrame[]): MetricFrame[] {
  const byStart = new Map(held.map((f) => [f.start, f]))
  for (const f of fresh) byStart.set(f.start, f)
  return [...byStart.values()].sort((a, b) => a.start - b.start)
}

const totals = (frame: MetricFrame) => new Map(frame.series.filter((s) => s.tags === undefined && s.overflow !== true).map((s) => [s.metric, s]))

export function metricPoints(frames: readonly MetricFrame[]): MetricPoints {
  const points: MetricPoints = { time: [], vus: [], reqRate: [], failedRate: [], p50: [], p95: [], p99: [], avg: [], checksRate: [] }
  for (const frame of frames) {
    const t = totals(frame)
    const seconds = Math.max(0.001, (frame.end - frame.start) / 1000)
    const duration = t.get('http_req_duration')
    const merged = duration && duration.count > 0 ? mergeSeries([duration as Series]) : undefined
    const q = (p: number) => (merged ? (quantile(merged, frame.mapping.gamma, p) ?? null) : null)
    const failed = t.get('http_req_failed')
    const checks = t.get('checks')
    points.time.push(frame.start / 1000)
    points.vus.push(t.get('vus')?.last ?? null)
    points.reqRate.push((t.get('http_reqs')?.count ?? 0) / seconds)
    points.failedRate.push(failed && failed.count > 0 ? (failed.passes ?? 0) / failed.count : null)
    points.p50.push(q(0.5))
    points.p95.push(q(0.95))
    points.p99.push(q(0.99))
    points.avg.push(duration && duration.count > 0 ? (duration.sum ?? 0) / duration.count : null)
    points.checksRate.push(checks && checks.count > 0 ? (checks.passes ?? 0) / checks.count : null)
  }
  return points
}

export interface RequestRow {
  name: string
  method: string
  requests: number
  /** Requests per second over the run's frames. */
  rate: number
  p95: number | null
  failures: number
}

/** One row per request name and method (k6's `name` tag, the URL unless the script names it), busiest first. */
export function requestTable(frames: readonly MetricFrame[]): RequestRow[] {
  const first = frames[0]
  const last = frames.at(-1)
  if (!first || !last) return []
  const seconds = Math.max(0.001, (last.end - first.start) / 1000)
  const rows = new Map<string, { name: string; method: string; requests: number; failures: number; durations: Series[] }>()
  for (const frame of frames) {
    for (const s of frame.series) {
      const name = s.tags?.name
      if (name === undefined) continue
      const method = s.tags?.method ?? ''
      const key = `${method} ${name}`
      let row = rows.get(key)
      if (!row) rows.set(key, (row = { name, method, requests: 0, failures: 0, durations: [] }))
      if (s.metric === 'http_reqs') row.requests += s.count
      else if (s.metric === 'http_req_failed') row.failures += s.passes ?? 0
      // A request's latency over its tag sets (e.g. by status) and periods: their histograms added up.
      else if (s.metric === 'http_req_duration') row.durations.push(s as Series)
    }
  }
  return [...rows.values()]
    .filter((r) => r.requests > 0)
    .map((r) => {
      const duration = mergeSeries(r.durations)
      return { name: r.name, method: r.method, requests: r.requests, rate: r.requests / seconds, p95: (duration && quantile(duration, first.mapping.gamma, 0.95)) ?? null, failures: r.failures }
    })
    .sort((a, b) => b.requests - a.requests)
}

/** A threshold drawn as a line: on the latency chart (ms) or the failure chart (a share). */
export interface ThresholdLine {
  chart: 'latency' | 'failed' | 'checks'
  value: number
  label: string
  ok: boolean
}

/**
 * Thresholds on a charted metric with a plain bound (`p(95)<500`, `avg<200`, `rate<0.01`, …):
 * the line to draw. Others (sub-metrics such as `http_req_duration{name:…}`, counts) are not drawn.
 */
export function thresholdLines(thresholds: readonly { metric: string; expression: string; ok: boolean }[] | null | undefined): ThresholdLine[] {
  const lines: ThresholdLine[] = []
  for (const t of thresholds ?? []) {
    const m = /^\s*(p\((\d+(?:\.\d+)?)\)|avg|med|min|max|rate)\s*(<=|<|>=|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(t.expression)
    if (!m) continue
    const value = Number(m[4])
    const label = `${t.metric} ${t.expression}`
    if (t.metric === 'http_req_duration' && m[1] !== 'rate') lines.push({ chart: 'latency', value, label, ok: t.ok })
    else if (t.metric === 'http_req_failed' && m[1] === 'rate') lines.push({ chart: 'failed', value, label, ok: t.ok })
    else if (t.metric === 'checks' && m[1] === 'rate') lines.push({ chart: 'checks', value, label, ok: t.ok })
  }
  return lines
}
