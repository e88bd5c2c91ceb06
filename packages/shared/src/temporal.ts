// Everything the API and the runner must agree on about Temporal: names, queues and payloads.
// Neither side imports the other; both import this module.
import { z } from 'zod'
import { runTriggerSchema, artifactsSchema } from './run.ts'
import { consoleChunkSchema } from './console.ts'

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
export const presenceBeatSchema = z.object({
  runnerId: z.string(),
  /** The locations whose queues this runner serves. */
  locations: z.array(z.string()),
  /** K6_MAX_CONCURRENCY, and the slots in use now. */
  slots: z.object({ capacity: z.number().int(), used: z.number().int() }),
  /** How this runner runs k6 (`bubblewrap` or `off`). */
  sandbox: z.string(),
  startedAt: z.string(),
})
export type PresenceBeat = z.infer<typeof presenceBeatSchema>

/** The failure type of an executeK6 that handed its run back before starting anything (no free k6 slot). */
export const RUNNER_BUSY = 'RunnerBusy'

/** Activities whose heartbeat details are a k6 heartbeat (a console chunk and the runner). */
export const CONSOLE_ACTIVITIES: readonly string[] = [ACTIVITY.executeK6, ACTIVITY.awaitK6]

/** How long a run's workflow waits on a runner's faults (from the platform's configuration; defaults apply when absent). */
export const durabilitySchema = z.object({
  /** How long artifacts a runner spooled are retried into storage (S3 down) before the run is left without them. */
  artifactRetrySeconds: z.number().int().positive(),
  /** How long a run whose k6 activity was lost waits for its runner to answer again (a restart) before it ends `error`. */
  runnerReturnSeconds: z.number().int().positive(),
})
export type Durability = z.infer<typeof durabilitySchema>
export const DEFAULT_DURABILITY: Durability = { artifactRetrySeconds: 30 * 60, runnerReturnSeconds: 120 }

export const runWorkflowInputSchema = z.object({
  runId: z.string(),
  locationId: z.string(),
  trigger: runTriggerSchema,
  timeoutSeconds: z.number().int().positive(),
  durability: durabilitySchema.optional(),
})
export type RunWorkflowInput = z.infer<typeof runWorkflowInputSchema>

/**
 * A single-use grant for one run's secrets: the runner redeems it over HTTPS at the API
 * (`POST <url>` with `{ runId, token }`) just before k6 starts. Only the token's hash is stored;
 * it expires, works once, and only while its run is queued or running. Secret values themselves
 * never travel through Temporal.
 */
export const secretsGrantSchema = z.object({
  url: z.string(),
  token: z.string(),
  expiresAt: z.string(),
  /** The secrets' names (values come from the API). */
  names: z.array(z.string()),
})
export type SecretsGrant = z.infer<typeof secretsGrantSchema>
/** Where runners redeem secrets grants, under the API's URL. */
export const SECRETS_GRANT_PATH = '/runner/v1/secrets'
/** The failure type of an executeK6 whose secrets grant expired while the run waited for a runner: the workflow mints a new one. */
export const GRANT_EXPIRED = 'SecretsGrantExpired'

/**
 * What a location runner gets to run k6 for one run (executeK6's input): everything k6 needs except
 * the secrets, which it redeems with `secrets` (when the test has any). A runner needs no database,
 * no storage keys and no secrets key.
 */
export const k6TaskSchema = runWorkflowInputSchema.extend({
  script: z.string(),
  /** Plain variables, passed to k6 as environment. */
  env: z.record(z.string(), z.string()),
  /** The project's target allowlist (CIDRs, addresses, hostnames). */
  allowlist: z.array(z.string()),
  /** The VU and duration caps held while k6 runs (the project's, under the platform's). */
  caps: z.object({ maxVUs: z.number().int(), maxDurationSeconds: z.number().int(), owner: z.enum(['platform', 'project']) }),
  secrets: secretsGrantSchema.optional(),
})
export type K6Task = z.infer<typeof k6TaskSchema>

/** The signal a runner sends a run's workflow when k6 has started (the workflow records `running`). */
export const K6_STARTED_SIGNAL = 'k6Started'
export interface K6StartedSignal {
  startedAt: string
}

/** One presigned upload: PUT the file's bytes to `url` with exactly these headers. */
export interface ArtifactUpload {
  url: string
  headers: Record<string, string>
}
/** Upload targets minted for one run's artifacts, by file name (summary.json, console.log, …). */
export interface ArtifactUploads {
  runId: string
  expiresAt: string
  files: Record<string, ArtifactUpload>
}
/** What storeArtifacts reports: the files it uploaded with their size and sha256. */
export type UploadedFiles = Record<string, { bytes: number; sha256: string }>

export const k6OutcomeSchema = z.object({
  exitCode: z.number().int().nullable(),
  /** The signal that ended k6, when it did not exit on its own. */
  signal: z.string().nullable(),
  /**
   * `limit`: the runner stopped k6 at a cap or a sandbox limit (errorText names it);
   * `runner_stopped`: the runner shut down during the run and stopped k6;
   * `runner_lost`: the runner died during the run (k6 died with it), found when it came back.
   */
  reason: z.enum(['exited', 'timed_out', 'cancelled', 'limit', 'runner_stopped', 'runner_lost']),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** Artifacts already stored (older runners uploaded before answering); spooled runs attach theirs later. */
  artifacts: artifactsSchema.default({}),
  consoleLines: z.number().int(),
  /** k6's own error lines (level=error) or the spawn failure, for the run's error detail. */
  errorText: z.string().nullable(),
  /**
   * What the runner read from k6's summary when k6 ended, so the result is recorded before the
   * artifacts are stored. Absent: an older runner (read the stored summary instead).
   */
  result: z
    .object({
      metrics: z.record(z.string(), z.number().nullable()).nullable(),
      thresholds: z.array(z.object({ metric: z.string(), expression: z.string(), ok: z.boolean(), actual: z.number().nullable().optional() })).nullable(),
      /** Why the summary could not be read (missing, cut at a limit, not k6's format). */
      problem: z.string().nullable(),
    })
    .optional(),
  /** The runner's own queue (runnerQueueFor): where the run's spooled artifacts are. */
  runner: z.string().optional(),
  /** Set when the outcome was recovered after the k6 activity was lost: what happened, for the record. */
  recovered: z.string().optional(),
})
export type K6Outcome = z.input<typeof k6OutcomeSchema>

/**
 * What a k6 activity heartbeats: the newest console lines, the queue of the runner that holds
 * the run (so the workflow can find k6 again if the activity is lost) and whether k6 started.
 */
export const k6HeartbeatSchema = consoleChunkSchema.extend({
  runner: z.string(),
  k6Started: z.boolean(),
})
export type K6Heartbeat = z.infer<typeof k6HeartbeatSchema>

export const recordRunInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('completed'), runId: z.string(), outcome: k6OutcomeSchema }),
  z.object({ kind: z.literal('cancelled'), runId: z.string() }),
  z.object({
    kind: z.literal('error'),
    runId: z.string(),
    message: z.string(),
    /** When k6 was last heard of (its last console line), so the run's duration is k6's own, not the time until the error was written. */
    lastSeenAt: z.string().optional(),
  }),
])
export type RecordRunInput = z.input<typeof recordRunInputSchema>

/** Artifacts stored after the result was recorded (spooled on the runner until storage took them). */
export interface AttachArtifactsInput {
  runId: string
  artifacts: z.input<typeof artifactsSchema>
  /** Why some or all could not be stored, kept with the run. */
  problem?: string
}

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
  durability?: Durability
}

/** `skipped`: a test was not started because the project had maxConcurrentRuns runs queued or running (the firing's `reason` says so). */
export type FiringStatus = 'running' | 'passed' | 'failed' | 'error' | 'cancelled' | 'skipped'
/** `failure`: a firing that did not pass; `recovery`: the first pass after one; `firing`: any other (notifyOn always). */
export type WebhookEvent = 'failure' | 'recovery' | 'firing'
