import { describe, expect, it } from 'vitest'
import { exitCodeForRun } from './exit-codes.ts'
import { formatProgress, updateMetrics, updateProgress, type Progress } from './progress.ts'

describe('progress line', () => {
  it("keeps k6's latest VUs, iterations and planned duration", () => {
    const p: Progress = {}
    expect(updateProgress(p, 'running (02.0s), 2/3 VUs, 6 complete and 0 interrupted iterations')).toBe(true)
    expect(updateProgress(p, 'default   [  50% ] 2 VUs  2.0s/4s')).toBe(true)
    expect(updateProgress(p, 'INFO[0001] hello source=console')).toBe(false)
    expect(formatProgress(p, 'running', 2400)).toBe('running · 2s / 4s (50%) · 2/3 VUs · 6 iterations')
    updateProgress(p, 'fixed   [  40% ] 2 VUs  00.5s/30s  16/40 shared iters')
    expect(p.planned).toBe('30s')
  })

  it('adds requests/s, p95 and the failed share from the last five seconds of metric frames', () => {
    const gamma = (1 + 0.004) / (1 - 0.004)
    // Each second: 100 requests, 2 failed, 95 of them at ~10 ms and 5 at ~200 ms.
    const bin = (v: number) => Math.floor(Math.log(v) / Math.log(gamma))
    const frame = (i: number) => ({
      v: 1,
      seq: i,
      start: 1_000_000 + i * 1000,
      end: 1_001_000 + i * 1000,
      mapping: { kind: 'log' as const, gamma },
      series: [
        { metric: 'http_reqs', type: 'counter' as const, count: 100, sum: 100 },
        { metric: 'http_req_failed', type: 'rate' as const, count: 100, passes: 2 },
        { metric: 'http_req_duration', type: 'trend' as const, count: 100, sum: 1950, min: 10, max: 200, bins: { pos: [[bin(10), 95], [bin(200), 5]] } },
      ],
    })
    const p: Progress = {}
    expect(formatProgress(p, 'running', 1000)).toBe('running · 1s')
    updateMetrics(p, [0, 1, 2].map(frame))
    updateMetrics(p, [3, 4, 5, 6].map(frame))
    expect(p.frames!.map((f) => f.seq)).toEqual([2, 3, 4, 5, 6])
    // p95 as k6 computes it: rank 0.95 × 499 = 474.05 lies between a 10 ms and a 200 ms request.
    expect(formatProgress(p, 'running', 7000)).toBe('running · 7s · 100 req/s · p95 19.5 ms · 2.0 % failed')
  })
})

describe('exit codes', () => {
  it('maps final runs like k6 does, and script faults apart from platform faults', () => {
    expect(exitCodeForRun({ status: 'passed', exitCode: 0 })).toBe(0)
    expect(exitCodeForRun({ status: 'failed', exitCode: 99 })).toBe(99)
    expect(exitCodeForRun({ status: 'error', exitCode: 107 })).toBe(7)
    expect(exitCodeForRun({ status: 'error', exitCode: 108 })).toBe(7)
    expect(exitCodeForRun({ status: 'error', exitCode: null })).toBe(4)
    expect(exitCodeForRun({ status: 'cancelled', exitCode: null })).toBe(5)
    expect(exitCodeForRun({ status: 'timed_out', exitCode: null })).toBe(6)
  })
})
