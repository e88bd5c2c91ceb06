// Which locations have a live runner, from each runner's presence workflow (see
// RUNNER_PRESENCE_WORKFLOW in @stampede/shared/temporal): a runner is present while its presence
// activity is running and heartbeated within PRESENCE_TIMEOUT_SECONDS. This notices a dead runner
// within seconds, and counts a busy runner (every k6 slot taken, so not polling its location
// queues) as present. One listing serves every location for CACHE_MS.
import type { Client } from '@temporalio/client'
import { arrayFromPayloads, defaultPayloadConverter } from '@temporalio/common'
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect.
import proto from '@temporalio/proto'
import { ACTIVITY, PRESENCE_TIMEOUT_SECONDS, presenceBeatSchema, RUNNER_PRESENCE_WORKFLOW, type PresenceBeat } from '@stampede/shared/temporal'

const { temporal } = proto
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
const CACHE_MS = 2_000

export interface LocationPresence {
  runnerAvailable: boolean
  /** Live runners serving the location. */
  pollers: number
  /** Free k6 slots of those runners, as their last presence beats said (up to PRESENCE_BEAT_MS + CACHE_MS old). */
  freeSlots: number
}

/** What a queued run's viewers are told, and how soon it will start. */
export interface QueuedRunPresence {
  /** No live runner serves the location. */
  waitingForRunner: boolean
  /** A live runner serving the location has a free k6 slot: a runner takes the run within moments. */
  startingSoon: boolean
}

export class RunnerPresence {
  private cache?: { at: number; value: Promise<PresenceBeat[]> }
  constructor(private readonly client: Client, private readonly now: () => number = Date.now) {}

  /** Whether a queued run in this location waits for a runner: no live runner serves it (if Temporal cannot say, assume one does). */
  async waitingFor(locationId: string): Promise<boolean> {
    return (await this.queued(locationId)).waitingForRunner
  }

  /**
   * A queued run in this location: whether it waits for a runner, and whether one is about to take
   * it. If Temporal cannot say, a runner is assumed to serve it (as waitingFor does) but not soon.
   */
  async queued(locationId: string): Promise<QueuedRunPresence> {
    const presence = await this.of(locationId).catch(() => undefined)
    return { waitingForRunner: presence ? !presence.runnerAvailable : false, startingSoon: (presence?.freeSlots ?? 0) > 0 }
  }

  async of(locationId: string): Promise<LocationPresence> {
    const live = (await this.runners()).filter((r) => r.locations.includes(locationId))
    const freeSlots = live.reduce((free, r) => free + Math.max(0, r.slots.capacity - r.slots.used), 0)
    return { runnerAvailable: live.length > 0, pollers: live.length, freeSlots }
  }

  /** Every live runner, as its last presence heartbeat describes it. */
  runners(): Promise<PresenceBeat[]> {
    const hit = this.cache
    if (hit && this.now() - hit.at < CACHE_MS) return hit.value
    const value = this.query()
    this.cache = { at: this.now(), value }
    value.catch(() => {
      if (this.cache?.value === value) this.cache = undefined
    })
    return value
  }

  private async query(): Promise<PresenceBeat[]> {
    const live: PresenceBeat[] = []
    const query = `WorkflowType = '${RUNNER_PRESENCE_WORKFLOW}' AND ExecutionStatus = 'Running'`
    const described: Promise<void>[] = []
    for await (const wf of this.client.workflow.list({ query })) {
      described.push(
        this.client.workflow
          .getHandle(wf.workflowId)
          .describe()
          .then((d) => {
            const beat = liveBeat(d.raw.pendingActivities ?? [], this.now())
            if (beat) live.push(beat)
          }, () => undefined),
      )
    }
    await Promise.all(described)
    return live.sort((a, b) => a.runnerId.localeCompare(b.runnerId))
  }
}

type PendingActivity = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['describe']>>['raw']['pendingActivities']>[number]

/** The presence heartbeat of a runner whose presence activity runs and beat recently. */
export function liveBeat(pending: PendingActivity[], now: number): PresenceBeat | undefined {
  const activity = pending.find((a) => a.activityType?.name === ACTIVITY.runnerPresence)
  if (!activity || activity.state !== STARTED) return undefined
  const at = timestampMs(activity.lastHeartbeatTime)
  if (at === undefined || now - at > PRESENCE_TIMEOUT_SECONDS * 1000) return undefined
  const payloads = activity.heartbeatDetails?.payloads
  if (!payloads?.length) return undefined
  const parsed = presenceBeatSchema.safeParse(arrayFromPayloads(defaultPayloadConverter, payloads)[0])
  return parsed.success ? parsed.data : undefined
}

/** A Temporal timestamp (seconds and nanos) in milliseconds; undefined when unset. */
export function timestampMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  if (!t?.seconds) return undefined
  return Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)
}
