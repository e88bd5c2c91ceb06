// Runs in flight per location, counted from runs.list pages of queued and running runs. The
// API caps a page at 200 runs; a location with more shows "200+" rather than a wrong count.
import type { RunStatus } from '@stampede/shared'

export interface InFlightCount {
  running: number
  queued: number
  /** A page was full, so there may be more than counted. */
  more: boolean
}

export function countInFlight(
  pages: readonly { items: readonly { location: string; status: RunStatus }[]; nextCursor: string | null }[],
): Map<string, InFlightCount> {
  const counts = new Map<string, InFlightCount>()
  for (const page of pages) {
    for (const run of page.items) {
      if (run.status !== 'running' && run.status !== 'queued') continue
      const c = counts.get(run.location) ?? { running: 0, queued: 0, more: false }
      c[run.status]++
      counts.set(run.location, c)
    }
    if (page.nextCursor) for (const c of counts.values()) c.more = true
  }
  return counts
}
