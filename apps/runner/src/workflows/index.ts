// loadTestRun: one run, orchestrated. k6 runs on the location's queue (only runners serving
// that location pick it up, and only when they have a free k6 slot, so a run with no runner
// waits, never dropped); the result is recorded on the orchestration queue as soon as k6's outcome
// is known; then the artifacts the runner spooled are stored from that runner's own queue
// (retried for as long as storage is down) and attached. The k6 activity has exactly one attempt:
// if it is lost after k6 started (Temporal unreachable past the heartbeat timeout, a runner that
// died), the workflow asks that runner, on its own queue, what became of k6 (awaitK6) instead
// of starting it again.
// The runner gets what k6 needs in the activity input (prepareK6, just before the run is handed
// out: script, variables, caps and a single-use secrets grant, never a secret's value), signals
// when k6 started (markRunning records it), and stores the artifacts through upload URLs minted
// for that run (presignArtifacts): a location runner needs only Temporal.
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  defineSignal,
  executeChild,
  isCancellation,
  continueAsNew,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  startChild,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow'
// Values only from the schema-free module: Temporal evaluates the bundle's modules for every
// workflow it starts (see temporal-names.ts).
import { DEFAULT_DURABILITY, GRANT_EXPIRED, K6_STARTED_SIGNAL, ORCHESTRATION_QUEUE, PRESENCE_TIMEOUT_SECONDS, RUNNER_BUSY, taskQueueFor, workflowIdFor } from '@stampede/shared/temporal-names'
import type {
  Durability,
  JobFiringInput,
  K6Heartbeat,
  K6Outcome,
  K6StartedSignal,
  RecordRunInput,
  RunnerPresenceInput,
  RunWorkflowInput,
  StoreSpooledRunInput,
  WebhookEvent,
} from '@stampede/shared/temporal'
import type { DispatchActivities } from '../activities/dispatch.ts'
import type { JobActivities } from '../activities/jobs.ts'
import type { K6Activities } from '../activities/k6.ts'
import type { PersistenceActivities } from '../activities/persistence.ts'
import type { PresenceActivities } from '../activities/presence.ts'

const PERSISTENCE_RETRY = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 }
const persistence = proxyActivities<PersistenceActivities>({ taskQueue: ORCHESTRATION_QUEUE, startToCloseTimeout: '2 minutes', retry: PERSISTENCE_RETRY })
// attachArtifacts also stores the run's per-second series from its metric frames: about 10 s for
// an hour of frames here, so a day-long run needs minutes. It resumes where an attempt stopped.
const attach = proxyActivities<PersistenceActivities>({ taskQueue: ORCHESTRATION_QUEUE, startToCloseTimeout: '30 minutes', retry: PERSISTENCE_RETRY })

// Local activities: they run in this worker (which has the database), one Temporal round trip
// fewer on the way from runs.start to k6's first request.
const dispatch = proxyLocalActivities<DispatchActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
})

export const k6Started = defineSignal<[K6StartedSignal]>(K6_STARTED_SIGNAL)

/** The longest a presigned URL may live (SigV4). */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600

/** Time after the run's own timeout for k6 to stop and its outcome to be written. */
const STOP_MARGIN_SECONDS = 15 * 60
const HEARTBEAT_TIMEOUT = '30 seconds'

export async function loadTestRun(input: RunWorkflowInput): Promise<string> {
  const durability = input.durability ?? DEFAULT_DURABILITY
  const { executeK6 } = proxyActivities<K6Activities>({
    taskQueue: taskQueueFor(input.locationId),
    startToCloseTimeout: `${input.timeoutSeconds + STOP_MARGIN_SECONDS} seconds`,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 1 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  })

  // The runner says when k6 started; `running` is recorded here, on the orchestration queue.
  setHandler(k6Started, async ({ startedAt }) => {
    await CancellationScope.nonCancellable(() => dispatch.markRunning({ runId: input.runId, startedAt }))
  })
  let outcome: K6Outcome | undefined
  let record: RecordRunInput | undefined
  let cancelled = false
  try {
    outcome = await runOnALocationRunner(executeK6, input)
  } catch (err) {
    if (isCancellation(err)) {
      cancelled = true
    } else {
      const beat = lostHeartbeat(err)
      if (beat) {
        // The run went to that runner (k6 may be running there still): find out from it what
        // became of k6, never start another.
        try {
          outcome = (await awaitK6On(beat.runner, input, durability)) ?? undefined
          if (!outcome) record = { kind: 'error', runId: input.runId, message: `the runner that ran k6 (${beat.runner}) has no trace of the run: its work directory was removed`, ...lastSeen(beat) }
        } catch (awaitErr) {
          if (isCancellation(awaitErr)) cancelled = true
          else {
            record = {
              kind: 'error',
              runId: input.runId,
              message: `the runner stopped responding during the run and did not come back within ${durability.runnerReturnSeconds} s (${failureMessage(awaitErr)})`,
              ...lastSeen(beat),
            }
          }
        }
      } else {
        record = { kind: 'error', runId: input.runId, message: failureMessage(err) }
      }
    }
  }
  if (outcome) record = { kind: 'completed', runId: input.runId, outcome }
  record ??= { kind: 'cancelled', runId: input.runId }
  const final = record
  const status = await CancellationScope.nonCancellable(() => persistence.recordRunResult(final))
  const runner = outcome?.runner
  if (runner) await CancellationScope.nonCancellable(() => storeAndAttach(input.runId, runner, durability))
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished))
  if (cancelled) return 'cancelled'
  return status
}

/**
 * executeK6 with what k6 needs, read just before; again while a runner hands the run back before
 * starting anything (RunnerBusy: it had no free k6 slot after all; or the secrets grant expired
 * while the run waited), so the run waits on the queue for any runner with room.
 */
async function runOnALocationRunner(executeK6: K6Activities['executeK6'], input: RunWorkflowInput): Promise<K6Outcome> {
  for (let attempt = 1; ; attempt++) {
    const task = await dispatch.prepareK6(input)
    try {
      return await executeK6(task)
    } catch (err) {
      if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure) || (err.cause.type !== RUNNER_BUSY && err.cause.type !== GRANT_EXPIRED)) throw err
      // Rare (two queues handing over the last slot at once); never spin if it repeats.
      if (attempt >= 3) await sleep(Math.min(attempt, 10) * 1000)
    }
  }
}

/**
 * storeSpooledRun: a runner that restarts finds the run directories it left; for each it starts
 * this, which (after the run's own workflow had its chance to ask the runner) stores what the
 * directory holds, attaches it to the run and removes the directory.
 */
export async function storeSpooledRun(input: StoreSpooledRunInput): Promise<string> {
  const durability = input.durability ?? DEFAULT_DURABILITY
  // The run's own workflow may be asking this runner about the run right now (awaitK6): let it go first.
  await sleep(`${durability.runnerReturnSeconds + 30} seconds`)
  return storeAndAttach(input.runId, input.runner, durability)
}

/**
 * runnerPresence: one per runner, open while the runner exists. Its activity runs on the runner's
 * own queue and heartbeats (see activities/presence.ts); a runner gone for a day ends it.
 */
export async function runnerPresence(input: RunnerPresenceInput): Promise<string> {
  const { runnerPresence: beat } = proxyActivities<PresenceActivities>({
    taskQueue: input.queue,
    heartbeatTimeout: `${PRESENCE_TIMEOUT_SECONDS} seconds`,
    startToCloseTimeout: '7 hours',
    scheduleToCloseTimeout: '1 day',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds' },
  })
  for (let span = 0; span < 50; span++) {
    try {
      await beat()
    } catch {
      return 'runner gone'
    }
  }
  // Keeps the history short: the workflow runs for as long as the runner does.
  return continueAsNew<typeof runnerPresence>(input)
}

async function storeAndAttach(runId: string, runner: string, durability: Durability): Promise<string> {
  const { storeArtifacts } = proxyActivities<K6Activities>({
    taskQueue: runner,
    // Storage down: the runner answers and fails, and is asked again with backoff for as long as
    // ARTIFACT_RETRY_MINUTES allows. Runner gone (it does not pick the task up): the run stops
    // waiting for it; its next life stores the spool (storeSpooledRun).
    scheduleToStartTimeout: `${durability.runnerReturnSeconds} seconds`,
    startToCloseTimeout: '10 minutes',
    scheduleToCloseTimeout: `${durability.artifactRetrySeconds} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  })
  const { releaseRun } = proxyActivities<K6Activities>({
    taskQueue: runner,
    scheduleToStartTimeout: '30 seconds',
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
  })
  try {
    // The URLs outlive the retries; a spool stored later (storeSpooledRun) gets fresh ones.
    const uploads = await dispatch.presignArtifacts({ runId, expiresInSeconds: Math.min(durability.artifactRetrySeconds + 600, MAX_PRESIGN_SECONDS) })
    const artifacts = await storeArtifacts({ runId, uploads })
    await attach.attachArtifacts({ runId, artifacts })
  } catch (err) {
    const minutes = Math.round(durability.artifactRetrySeconds / 60)
    await attach.attachArtifacts({
      runId,
      artifacts: {},
      problem: storeProblem(err, minutes, runner),
    })
    return 'artifacts not stored'
  }
  // Best effort: a directory left behind is found again when the runner restarts.
  await releaseRun({ runId }).catch(() => undefined)
  return 'stored'
}

function storeProblem(err: unknown, minutes: number, runner: string): string {
  const timeout = err instanceof ActivityFailure && err.cause instanceof TimeoutFailure ? err.cause.timeoutType : undefined
  if (timeout === 'SCHEDULE_TO_START') return `the run's artifacts were not stored: its runner (${runner}) stopped before storing them; they stay on that runner's disk and are stored when it starts again`
  return `the run's artifacts could not be stored within ${minutes} min (${failureMessage(err)}); they stay on the runner (${runner}) and are stored when it starts again`
}

function awaitK6On(runner: string, input: RunWorkflowInput, durability: Durability): Promise<K6Outcome | null> {
  const { awaitK6 } = proxyActivities<K6Activities>({
    taskQueue: runner,
    // The runner must pick it up within this time (it may be restarting); then k6 may still run.
    scheduleToStartTimeout: `${durability.runnerReturnSeconds} seconds`,
    startToCloseTimeout: `${input.timeoutSeconds + STOP_MARGIN_SECONDS} seconds`,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    // awaitK6 never starts k6, so trying again is safe (a runner that died again is asked again).
    retry: { maximumAttempts: 3, initialInterval: '1 second' },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  })
  return awaitK6({ runId: input.runId })
}

/** The last heartbeat of a k6 activity Temporal gave up on (a timeout), if it had one. */
function lostHeartbeat(err: unknown): K6Heartbeat | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof TimeoutFailure)) return undefined
  return isK6Heartbeat(err.cause.lastHeartbeatDetails) ? err.cause.lastHeartbeatDetails : undefined
}

/** A k6 heartbeat's shape, as far as the workflow reads it (the runner's queue, the last line's time); checked by hand to keep zod out of the bundle. */
function isK6Heartbeat(details: unknown): details is K6Heartbeat {
  if (typeof details !== 'object' || details === null) return false
  const beat = details as Partial<Record<keyof K6Heartbeat, unknown>>
  return typeof beat.runner === 'string' && typeof beat.k6Started === 'boolean' && Array.isArray(beat.lines) && beat.lines.every((l: unknown) => typeof l === 'object' && l !== null && typeof (l as { time?: unknown }).time === 'string')
}

/** When k6 was last heard of: its last console line in the heartbeat. */
function lastSeen(beat: K6Heartbeat): { lastSeenAt?: string } {
  const last = beat.lines.at(-1)
  return last ? { lastSeenAt: last.time } : {}
}

function failureMessage(err: unknown): string {
  const chain: string[] = []
  let current: unknown = err
  while (current instanceof Error && chain.length < 4) {
    chain.push(current.message)
    current = current.cause
  }
  const text = chain.filter(Boolean).join(': ')
  if (/heartbeat/i.test(text)) return `the runner stopped responding during the run (${text})`
  return text || 'the run failed in the platform'
}

const jobs = proxyActivities<JobActivities>({
  taskQueue: ORCHESTRATION_QUEUE,
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
})

const webhooks = proxyActivities<JobActivities>({
  taskQueue: ORCHESTRATION_QUEUE,
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 6 },
})

/**
 * jobFiring: one firing of a job, started by its Temporal Schedule (or a trigger or backfill).
 * Runs the job's tests in order through the same loadTestRun as manual runs, as child
 * workflows; records the firing's outcome; then notifies the job's webhook, retried by Temporal.
 * Cancelling the firing (overlap policy cancel_other) cancels the run in progress.
 */
export async function jobFiring(input: JobFiringInput): Promise<string> {
  const info = workflowInfo()
  const firing = await jobs.startFiring({ jobId: input.jobId, workflowId: info.workflowId, scheduledAt: scheduledTime(info).toISOString() })
  if (!firing) return 'job deleted'
  let cancelled = false
  try {
    for (let position = 0; position < firing.tests; position++) {
      const run = await jobs.prepareFiringRun({ firingId: firing.firingId, position })
      if (!run) continue
      const args: RunWorkflowInput = { runId: run.runId, locationId: run.locationId, trigger: 'schedule', timeoutSeconds: run.timeoutSeconds, ...(run.durability ? { durability: run.durability } : {}) }
      await executeChild(loadTestRun, {
        workflowId: workflowIdFor(run.runId),
        taskQueue: ORCHESTRATION_QUEUE,
        args: [args],
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      })
    }
  } catch (err) {
    if (!isCancellation(err)) throw err
    cancelled = true
  }
  const { status, event } = await CancellationScope.nonCancellable(() => jobs.finishFiring({ firingId: firing.firingId, cancelled }))
  if (event) {
    // Delivery (with its retries) runs on its own, so a slow or failing webhook neither holds the
    // firing open (which would make the schedule skip the next ones) nor fails it.
    await CancellationScope.nonCancellable(() =>
      startChild(notifyWebhook, {
        workflowId: `notify-${firing.firingId}-${event}`,
        taskQueue: ORCHESTRATION_QUEUE,
        args: [{ firingId: firing.firingId, event }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      }),
    )
  }
  return status
}

/** notifyWebhook: one webhook notification, retried by Temporal with backoff; every attempt is logged. */
export async function notifyWebhook(input: { firingId: string; event: WebhookEvent }): Promise<string> {
  try {
    await webhooks.deliverWebhook(input)
    return 'delivered'
  } catch {
    return 'not delivered'
  }
}

/** When the schedule meant this firing to happen (backfills lie in the past); else the start time. */
function scheduledTime(info: ReturnType<typeof workflowInfo>): Date {
  const value = info.searchAttributes?.TemporalScheduledStartTime?.[0]
  return value instanceof Date ? value : new Date(info.startTime)
}
