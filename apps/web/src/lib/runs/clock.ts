// The run page's clock: how long a run has been waiting or running, ticking while it is in
// flight, and how long it took once it ended.
import { isTerminal, type RunStatus } from '@stampede/shared'

export interface RunTimes {
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
}

export interface RunClock {
  label: 'Queued for' | 'Running for' | 'Took' | 'Ended after'
  ms: number | null
}

const at = (iso: string | null) => (iso ? new Date(iso).getTime() : Number.NaN)

/** `status` is the newest known (the live feed's, ahead of the record until it is reloaded). */
export function runClock(run: RunTimes, status: RunStatus, now: number): RunClock {
  if (status === 'queued') return { label: 'Queued for', ms: Math.max(0, now - at(run.createdAt)) }
  if (status === 'running') {
    const since = at(run.startedAt)
    return { label: 'Running for', ms: Math.max(0, now - (Number.isNaN(since) ? at(run.createdAt) : since)) }
  }
  if (!isTerminal(status)) return { label: 'Took', ms: null }
  if (run.durationMs !== null) return { label: 'Took', ms: run.durationMs }
  const span = at(run.finishedAt) - at(run.startedAt)
  // Cancelled before k6 started (or the record is not final yet): no duration to show.
  return { label: status === 'passed' || status === 'failed' ? 'Took' : 'Ended after', ms: Number.isNaN(span) ? null : Math.max(0, span) }
}
