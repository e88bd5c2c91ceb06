// The names and plain values of Stampede's Temporal contract (queues, workflow and activity
// names, ids, failure types, defaults), without a schema library: the workflow bundle imports
// this module, and Temporal evaluates a workflow bundle's modules again for every workflow it
// starts, so whatever the bundle imports is paid on every run's way to its first request.
// temporal.ts re-exports all of it next to the payload schemas.

/** Queue for workflows and for the persistence activities around a run. */
export const ORCHESTRATION_QUEUE = 'stampede'
/** Region-named queue served only by runners for that location. */
export const taskQueueFor = (locationId: string): string => `k6-${locationId}`
export const locationFromTaskQueue = (queue: string): string | undefined =>
  queue.startsWith('k6-') ? queue.slice(3) : undefined

export const LOAD_TEST_RUN_WORKFLOW = 'loadTestRun'
export const workflowIdFor = (runId: string): string => `run-${runId}`
/** Started by a runner that finds a run's directory left from before it restarted: stores and attaches what it holds. */
export const STORE_SPOOLED_RUN_WORKFLOW = 'storeSpooledRun'
export const spoolWorkflowIdFor = (runId: string): string => `spool-${runId}`
export interface StoreSpooledRunInput {
  runId: string
  runner: string
  durability?: Durability
}

/**
 * Each runner process also serves a queue of its own, named by its id (kept in its work
 * directory, so a restarted runner serves the same queue): the steps that must happen where a
 * run's k6 ran (following a k6 whose activity was lost, storing its spooled artifacts, removing
 * its directory) go there.
 */
export const runnerQueueFor = (runnerId: string): string => `stampede-runner-${runnerId}`

export const ACTIVITY = {
  executeK6: 'executeK6',
  /** On a runner's own queue: follows (or reports) a k6 whose executeK6 activity was lost. */
  awaitK6: 'awaitK6',
  recordRunResult: 'recordRunResult',
  /** Orchestration queue: what k6 needs for a run (script, variables, caps, a secrets grant), read just before it is handed to a runner. */
  prepareK6: 'prepareK6',
  /** Orchestration queue: presigned upload URLs for one run's artifacts. */
  presignArtifacts: 'presignArtifacts',
  /** On a runner's own queue, for as long as the runner lives: its presence heartbeat. */
  runnerPresence: 'runnerPresence',
} as const

/**
 * Runner presence: each runner keeps one `runnerPresence` workflow open (id presenceWorkflowIdFor),
 * whose `runnerPresence` activity runs on that runner's own queue and heartbeats what the runner
 * serves every PRESENCE_BEAT_MS. The API reads the pending activity: a runner is present while
 * that activity is started and its last heartbeat is younger than PRESENCE_TIMEOUT_SECONDS, so a
 * dead runner is noticed within that time, busy or not (a busy runner does not poll its
 * location queues: it takes no task without a free k6 slot).
 */
export const RUNNER_PRESENCE_WORKFLOW = 'runnerPresence'
export const presenceWorkflowIdFor = (runnerId: string): string => `runner-presence-${runnerId}`
export const PRESENCE_BEAT_MS = 2_000
export const PRESENCE_TIMEOUT_SECONDS = 10
export interface RunnerPresenceInput {
  runnerId: string
  queue: string
}
/** The failure type of an executeK6 that handed its run back before starting anything (no free k6 slot). */
export const RUNNER_BUSY = 'RunnerBusy'

/** Activities whose heartbeat details are a k6 heartbeat (a console chunk and the runner). */
export const CONSOLE_ACTIVITIES: readonly string[] = [ACTIVITY.executeK6, ACTIVITY.awaitK6]

/** How long a run's workflow waits on a runner's faults (from the platform's configuration; defaults apply when absent). */
export interface Durability {
  /** How long artifacts a runner spooled are retried into storage (S3 down) before the run is left without them. */
  artifactRetrySeconds: number
  /** How long a run whose k6 activity was lost waits for its runner to answer again (a restart) before it ends `error`. */
  runnerReturnSeconds: number
}
export const DEFAULT_DURABILITY: Durability = { artifactRetrySeconds: 30 * 60, runnerReturnSeconds: 120 }

/** Where runners redeem secrets grants, under the API's URL. */
export const SECRETS_GRANT_PATH = '/runner/v1/secrets'
/** The failure type of an executeK6 whose secrets grant expired while the run waited for a runner: the workflow mints a new one. */
export const GRANT_EXPIRED = 'SecretsGrantExpired'

/** The signal a runner sends a run's workflow when k6 has started (the workflow records `running`). */
export const K6_STARTED_SIGNAL = 'k6Started'
export interface K6StartedSignal {
  startedAt: string
}

/** Jobs: each job is the Temporal Schedule `job-<jobId>`, whose action starts `jobFiring`. */
export const JOB_FIRING_WORKFLOW = 'jobFiring'
export const scheduleIdFor = (jobId: string): string => `job-${jobId}`
export const jobIdFromScheduleId = (scheduleId: string): string | undefined => /^job-([0-9a-f-]{36})$/.exec(scheduleId)?.[1]
