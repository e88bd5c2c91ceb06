// loadTestRun: one run, orchestrated. k6 runs on the location's queue (only runners serving
// that location pick it up, so a run with no runner waits, never dropped); the result is
// recorded on the orchestration queue. The k6 activity has exactly one attempt.
import {
  ActivityCancellationType,
  CancellationScope,
  ChildWorkflowCancellationType,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow'
import {
  ORCHESTRATION_QUEUE,
  taskQueueFor,
  workflowIdFor,
  type JobFiringInput,
  type RecordRunInput,
  type RunWorkflowInput,
  type WebhookEvent,
} from '@stampede/shared/temporal'
import type { JobActivities } from '../activities/jobs.ts'
import type { K6Activities } from '../activities/k6.ts'
import type { PersistenceActivities } from '../activities/persistence.ts'

const persistence = proxyActivities<PersistenceActivities>({
  taskQueue: ORCHESTRATION_QUEUE,
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
})

/** Time after the run's own timeout for k6 to stop and artifacts to upload. */
const STOP_AND_UPLOAD_MARGIN_SECONDS = 15 * 60

export async function loadTestRun(input: RunWorkflowInput): Promise<string> {
  const { executeK6 } = proxyActivities<K6Activities>({
    taskQueue: taskQueueFor(input.locationId),
    startToCloseTimeout: `${input.timeoutSeconds + STOP_AND_UPLOAD_MARGIN_SECONDS} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 1 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  })

  let record: RecordRunInput
  let cancelled = false
  try {
    const outcome = await executeK6(input)
    record = { kind: 'completed', runId: input.runId, outcome }
  } catch (err) {
    cancelled = isCancellation(err)
    record = cancelled ? { kind: 'cancelled', runId: input.runId } : { kind: 'error', runId: input.runId, message: failureMessage(err) }
  }
  const status = await CancellationScope.nonCancellable(() => persistence.recordRunResult(record))
  if (cancelled) return 'cancelled'
  return status
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
      const args: RunWorkflowInput = { runId: run.runId, locationId: run.locationId, trigger: 'schedule', timeoutSeconds: run.timeoutSeconds }
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
