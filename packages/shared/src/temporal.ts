// Everything the API and the runner must agree on about Temporal: names, queues and payloads.
// Neither side imports the other; both import this module.
import { z } from 'zod'
import { runTriggerSchema, artifactsSchema } from './run.ts'

/** Queue for workflows and for the persistence activities around a run. */
export const ORCHESTRATION_QUEUE = 'stampede'
/** Region-named queue served only by runners for that location. */
export const taskQueueFor = (locationId: string): string => `k6-${locationId}`
export const locationFromTaskQueue = (queue: string): string | undefined =>
  queue.startsWith('k6-') ? queue.slice(3) : undefined

export const LOAD_TEST_RUN_WORKFLOW = 'loadTestRun'
export const workflowIdFor = (runId: string): string => `run-${runId}`

export const ACTIVITY = {
  executeK6: 'executeK6',
  recordRunResult: 'recordRunResult',
} as const

export const runWorkflowInputSchema = z.object({
  runId: z.string(),
  locationId: z.string(),
  trigger: runTriggerSchema,
  timeoutSeconds: z.number().int().positive(),
})
export type RunWorkflowInput = z.infer<typeof runWorkflowInputSchema>

export const k6OutcomeSchema = z.object({
  exitCode: z.number().int().nullable(),
  /** The signal that ended k6, when it did not exit on its own. */
  signal: z.string().nullable(),
  /** `limit`: the runner stopped k6 at a cap or a sandbox limit (errorText names it). */
  reason: z.enum(['exited', 'timed_out', 'cancelled', 'limit']),
  startedAt: z.string(),
  finishedAt: z.string(),
  artifacts: artifactsSchema,
  consoleLines: z.number().int(),
  /** k6's own error lines (level=error) or the spawn failure, for the run's error detail. */
  errorText: z.string().nullable(),
})
export type K6Outcome = z.infer<typeof k6OutcomeSchema>

export const recordRunInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('completed'), runId: z.string(), outcome: k6OutcomeSchema }),
  z.object({ kind: z.literal('cancelled'), runId: z.string() }),
  z.object({ kind: z.literal('error'), runId: z.string(), message: z.string() }),
])
export type RecordRunInput = z.infer<typeof recordRunInputSchema>

/** Jobs: each job is the Temporal Schedule `job-<jobId>`, whose action starts `jobFiring`. */
export const JOB_FIRING_WORKFLOW = 'jobFiring'
export const scheduleIdFor = (jobId: string): string => `job-${jobId}`
export const jobIdFromScheduleId = (scheduleId: string): string | undefined => /^job-([0-9a-f-]{36})$/.exec(scheduleId)?.[1]

export interface JobFiringInput {
  jobId: string
}

/** What a firing's next run needs, prepared (idempotently) by an activity. */
export interface FiringRun {
  runId: string
  locationId: string
  timeoutSeconds: number
}

/** `skipped`: a test was not started because the project had maxConcurrentRuns runs queued or running (the firing's `reason` says so). */
export type FiringStatus = 'running' | 'passed' | 'failed' | 'error' | 'cancelled' | 'skipped'
/** `failure`: a firing that did not pass; `recovery`: the first pass after one; `firing`: any other (notifyOn always). */
export type WebhookEvent = 'failure' | 'recovery' | 'firing'
