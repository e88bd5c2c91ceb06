// runnerPresence: the activity that says this runner is alive. It runs on the runner's own queue
// for hours at a time, heartbeating what the runner serves (locations, k6 slots, sandbox) every
// PRESENCE_BEAT_MS; the API reads its last heartbeat (see apps/api/src/runs/presence.ts). When
// the runner dies the heartbeat stops, Temporal times the activity out and retries it, and the
// runner's next life (same id, same queue) picks it up again.
import { Context } from '@temporalio/activity'
import { PRESENCE_BEAT_MS, type PresenceBeat } from '@stampede/shared/temporal'

/** How long one presence activity lasts before the workflow starts the next (keeps each attempt bounded). */
const PRESENCE_SPAN_MS = 6 * 60 * 60 * 1000

export function createPresenceActivities(beat: () => PresenceBeat, opts: { beatMs?: number; spanMs?: number } = {}) {
  // Stopping the runner ends the presence activity at once (a worker waits for its activities
  // before it stops); the workflow then schedules the next one for the runner's next life.
  const stopping = new AbortController()
  async function runnerPresence(): Promise<string> {
    const ctx = Context.current()
    const until = Date.now() + (opts.spanMs ?? PRESENCE_SPAN_MS)
    while (Date.now() < until && !stopping.signal.aborted) {
      ctx.heartbeat(beat())
      await Promise.race([ctx.sleep(opts.beatMs ?? PRESENCE_BEAT_MS), new Promise((resolve) => stopping.signal.addEventListener('abort', resolve, { once: true }))])
    }
    return stopping.signal.aborted ? 'runner stopping' : 'renew'
  }
  return { activities: { runnerPresence }, stop: () => stopping.abort() }
}

export type PresenceActivities = ReturnType<typeof createPresenceActivities>['activities']
