import { describe, expect, it } from 'vitest'
import { exitCodeForRun } from './exit-codes.ts'
import { formatProgress, updateProgress, type Progress } from './progress.ts'

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
