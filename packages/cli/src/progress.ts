// The live progress line: k6 prints `running (02.0s), 2/2 VUs, 6 complete …` and
// `default [ 50% ] 2 VUs  2.0s/4s` once a second; the CLI keeps the latest figures. The run's
// metric frames (one per second) add requests per second, p95 latency and the error rate over
// the last few seconds.
import { mergeFrames, quantile, seriesKey, type Frame } from '@stampede/sdk/frames'

export interface Progress {
  /** k6's elapsed time as it prints it, e.g. `02.0s`. */
  elapsed?: string
  /** Planned duration of the longest scenario, e.g. `4s` or `30s`. */
  planned?: string
  percent?: number
  vus?: number
  maxVus?: number
  iterations?: number
  interrupted?: number
  /** The newest metric frames (at most METRIC_WINDOW), oldest first. */
  frames?: Frame[]
}

/** Seconds of frames the live figures are computed over: steady enough to read, recent enough to follow. */
const METRIC_WINDOW = 5

const RUNNING = /^running \(([^)]+)\), (\d+)\/(\d+) VUs, (\d+) complete and (\d+) interrupted iterations/
const SCENARIO = /^\S+\s+\S?\s*\[\s*(\d+)%\s*\]\s+\d+ VUs\s+(\S+?)(?:\/(\S+))?(?:\s|$)/

/** Updates progress from one console line; returns true if the line was a progress line. */
export function updateProgress(p: Progress, text: string): boolean {
  const r = RUNNING.exec(text)
  if (r) {
    p.elapsed = r[1]
    p.vus = Number(r[2])
    p.maxVus = Number(r[3])
    p.iterations = Number(r[4])
    p.interrupted = Number(r[5])
    return true
  }
  const s = SCENARIO.exec(text)
  if (s) {
    p.percent = Number(s[1])
    p.planned = s[3] ?? s[2]
    return true
  }
  return false
}

/** Adds a run's new metric frames (ascending by period) to the progress. */
export function updateMetrics(p: Progress, frames: readonly Frame[]): void {
  p.frames = [...(p.frames ?? []), ...frames].slice(-METRIC_WINDOW)
}

/** Requests per second, p95 latency (ms) and the failed share of requests over the frames held. */
export function liveFigures(p: Progress): { reqPerSecond: number; p95?: number; failedRate?: number } | undefined {
  const frames = p.frames ?? []
  if (frames.length === 0) return undefined
  const merged = mergeFrames(frames)
  const seconds = Math.max(1, (merged.end - merged.start) / 1000)
  const reqs = merged.series.get(seriesKey({ metric: 'http_reqs' }))
  const duration = merged.series.get(seriesKey({ metric: 'http_req_duration' }))
  const failed = merged.series.get(seriesKey({ metric: 'http_req_failed' }))
  const p95 = duration ? quantile(duration, merged.gamma, 0.95) : undefined
  return {
    reqPerSecond: (reqs?.count ?? 0) / seconds,
    ...(p95 === undefined ? {} : { p95 }),
    ...(failed && failed.count > 0 ? { failedRate: (failed.passes ?? 0) / failed.count } : {}),
  }
}

export function formatProgress(p: Progress, status: string, elapsedMs: number): string {
  const parts = [status]
  const elapsed = `${(elapsedMs / 1000).toFixed(0)}s`
  parts.push(p.planned ? `${elapsed} / ${p.planned}${p.percent !== undefined ? ` (${p.percent}%)` : ''}` : elapsed)
  if (p.vus !== undefined) parts.push(`${p.vus}/${p.maxVus} VUs`)
  if (p.iterations !== undefined) parts.push(`${p.iterations} iterations`)
  const live = liveFigures(p)
  if (live) {
    parts.push(`${live.reqPerSecond >= 100 ? live.reqPerSecond.toFixed(0) : live.reqPerSecond.toFixed(1)} req/s`)
    if (live.p95 !== undefined) parts.push(`p95 ${live.p95 >= 100 ? live.p95.toFixed(0) : live.p95.toFixed(1)} ms`)
    if (live.failedRate !== undefined) parts.push(`${(live.failedRate * 100).toFixed(live.failedRate > 0 && live.failedRate < 0.01 ? 2 : 1)} % failed`)
  }
  return parts.join(' · ')
}
