import { describe, expect, it } from 'vitest'
import { runClock } from './clock.ts'

const created = '2026-03-10T12:00:00.000Z'
const t = (s: number) => Date.parse(created) + s * 1000

describe('runClock', () => {
  const base = { createdAt: created, startedAt: null, finishedAt: null, durationMs: null }

  it('counts the wait while queued and the run from its start while running', () => {
    expect(runClock(base, 'queued', t(4))).toEqual({ label: 'Queued for', ms: 4000 })
    expect(runClock({ ...base, startedAt: new Date(t(5)).toISOString() }, 'running', t(12))).toEqual({ label: 'Running for', ms: 7000 })
  })

  it('counts from creation while the feed says running before the record knows the start', () => {
    expect(runClock(base, 'running', t(3))).toEqual({ label: 'Running for', ms: 3000 })
  })

  it("shows k6's duration once the run ended, else the span the record has", () => {
    expect(runClock({ ...base, durationMs: 10_250 }, 'passed', t(99))).toEqual({ label: 'Took', ms: 10_250 })
    expect(runClock({ ...base, startedAt: new Date(t(1)).toISOString(), finishedAt: new Date(t(4)).toISOString() }, 'cancelled', t(99))).toEqual({ label: 'Ended after', ms: 3000 })
    expect(runClock(base, 'cancelled', t(99))).toEqual({ label: 'Ended after', ms: null })
  })

  it('never shows a negative time when the browser clock is behind the server', () => {
    expect(runClock(base, 'queued', t(-2)).ms).toBe(0)
  })
})
