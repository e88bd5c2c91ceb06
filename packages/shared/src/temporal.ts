// Everything the API and the runner must agree on about Temporal: names, queues and payloads.
// Neither side imports the other; both import this module.
import { z } from 'zod'
import { runTriggerSchema, artifactsSchema } from './run.ts'
import { consoleChunkSchema } from './console.ts'
import type { Durability } from './temporal-names.ts'

export * from './temporal-names.ts'


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


/** How long a run's workflow waits on a runner's faults (from the platform's configuration; defaults apply when absent). */
export const durabilitySchema = z.object({
  /** How long artifacts a runner spooled are retried into storage (S3 down) before the run is left without them. */
  artifactRetrySeconds: z.number().int().positive(),
  /** How long a run whose k6 activity was lost waits for its runner to answer again (a restart) before it ends `error`. */
  runnerReturnSeconds: z.number().int().positive(),
}) satisfies z.ZodType<Durability>

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

/** A stored blob a runner fetches for a run: a presigned GET URL for that one object, with its SHA-256 and size. */
const taskBlobSchema = z.object({ sha256: z.string(), size: z.number().int().nonnegative(), url: z.string() })
const taskFileSchema = taskBlobSchema.extend({ path: z.string() })

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
  /** k6 also writes its per-sample stream (the `samples` artifact). Absent: no. */
  rawSamples: z.boolean().optional(),
  /** The run's files, laid out beside the script: each fetched from its presigned URL and checked against its hash and size. */
  files: z.array(taskFileSchema).optional(),
  /** The k6 archive the run runs instead of the script (fetched and checked like a file). */
  archive: taskBlobSchema.optional(),
  /** When the files' and archive's URLs stop working: a runner taking the run later hands it back for new ones. */
  filesExpireAt: z.string().optional(),
})
export type K6Task = z.infer<typeof k6TaskSchema>
export type K6TaskFile = z.infer<typeof taskFileSchema>


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
 * A metric frame as a heartbeat carries it: its period start in the clear (a reader skips the
 * frames it has by it) and the frame's JSON gzipped, in base64 (see heartbeat-frames.ts).
 */
export const packedFrameSchema = z.object({ start: z.number(), gz: z.string() })
export type PackedFrame = z.infer<typeof packedFrameSchema>

/**
 * Console lines as a heartbeat carries those of its window that are no longer new: their seq range
 * in the clear (a reader that has them skips them unread) and the lines' JSON gzipped, in base64
 * (see heartbeat-lines.ts).
 */
export const packedLinesSchema = z.object({ fromSeq: z.number().int().positive(), lastSeq: z.number().int().positive(), gz: z.string() })
export type PackedLines = z.infer<typeof packedLinesSchema>

/**
 * What a k6 activity heartbeats: the newest console lines, the queue of the runner that holds
 * the run (so the workflow can find k6 again if the activity is lost) and whether k6 started.
 */
export const k6HeartbeatSchema = consoleChunkSchema.extend({
  runner: z.string(),
  k6Started: z.boolean(),
  /** The newest metric frames (a few seconds' worth, overlapping between heartbeats), packed; absent before k6 wrote one. */
  packed: z.array(packedFrameSchema).optional(),
  /**
   * The window's lines before `fromSeq` (kept so a viewer who comes in mid-run sees what led up to
   * now), packed; absent when the window holds only new lines.
   */
  earlier: packedLinesSchema.optional(),
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
