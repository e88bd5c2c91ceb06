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
  let stopped = false
  let wake: (() => void) | undefined
  async function runnerPresence(): Promise<string> {
    const ctx = Context.current()
    const until = Date.now() + (opts.spanMs ?? PRESENCE_SPAN_MS)
    // One listener per activity, and a timer per beat that a stop or a cancellation cuts short
    // (racing a long-lived promise each beat would pile up reactions on it for hours).
    ctx.cancellationSignal.addEventListener('abort', () => wake?.(), { once: true })
    while (Date.now() < until && !stopped) {
      // Cancelled (the worker shuts down): Temporal retries it for the runner's next life.
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason
      ctx.heartbeat(beat())
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.beatMs ?? PRESENCE_BEAT_MS)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    return stopped ? 'runner stopping' : 'renew'
  }
  return {
    activities: { runnerPresence },
    stop: () => {
      stopped = true
      wake?.()
    },
  }
}

export type PresenceActivities = ReturnType<typeof createPresenceActivities>['activities']
