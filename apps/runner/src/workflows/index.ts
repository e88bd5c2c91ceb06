// loadTestRun: one run, orchestrated. k6 runs on the location's queue (only runners serving
// that location pick it up, so a run with no runner waits, never dropped); the result is
// recorded on the orchestration queue. The k6 activity has exactly one attempt.
import { ActivityCancellationType, CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow'
import { ORCHESTRATION_QUEUE, taskQueueFor, type RecordRunInput, type RunWorkflowInput } from '@stampede/shared/temporal'
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
