// The one way a run is created, whoever asks (runs.start for manual and API runs, a job's firing
// for scheduled ones). A run passes these gates, in order, before its row exists:
//   location    the location is one the platform is configured with (LOCATIONS)
//   test        the saved test exists in the run's project (or an unsaved script is given)
//   variables   the run's variables: the test's, overridden by `env`, never a secret's name
//   validation  the script's static checks and k6's own load of it (`k6 inspect`, in the
//               sandbox, with the run's variables and stand-ins for its secrets)
//   caps        what k6 says it needs (VUs, duration) within the project's caps, never above
//               the platform's (MAX_VUS, MAX_DURATION_SECONDS)
//   quota       the project's maxConcurrentRuns, under its run-start lock (lockRunQuota), so two
//               creations cannot both take the last slot
// Then the row is written (`queued`, workflowId run-<id>, rawSamples: what the caller asked, else
// the saved test's setting, else false) with its snapshot of the files it runs: the test's files
// or archive as they were validated, or the ones given. Starting its workflow is the caller's.
// A refusal says which gate refused, what is wrong and how to fix it; nothing is written then.
// Creation with a given id is idempotent: a run that already exists is returned as it is.
import { lockRunQuota, type Db, type Run, type RunQuota } from '@stampede/db'
import { capsFor, type ScriptCaps } from '@stampede/shared/caps'
import type { RunTrigger } from '@stampede/shared'
import type { Finding } from '@stampede/shared/script'
import { workflowIdFor } from '@stampede/shared/temporal'
import type { StoredArchive, StoredFile } from '@stampede/shared/files'
import { capFindings, formatFindings, isCapFinding, validationEnv, type RunValidator } from './validation.ts'
import type { FileReader } from './bundle.ts'
import { runVariables } from './variables.ts'

export type RunGate = 'location' | 'test' | 'variables' | 'validation' | 'caps' | 'quota'

/** Why a run was not created: the gate that refused it and a message saying what is wrong and how to fix it. */
export type RunRefusal =
  | { gate: 'location'; message: string; location: string; configured: string[] }
  | { gate: 'test'; message: string; testId: string }
  | { gate: 'variables'; message: string; name: string }
  | { gate: 'validation' | 'caps'; message: string; findings: Finding[]; caps: ScriptCaps }
  | { gate: 'quota'; message: string; quota: RunQuota }

export interface CreateRunDeps {
  db: Db
  /** The configured locations (LOCATIONS); null: not checked (only for a caller without that configuration). */
  locations: readonly { id: string }[] | null
  /**
   * The validation and caps gates: the validator, and the platform's caps (MAX_VUS,
   * MAX_DURATION_SECONDS) the project's lie under. null: neither gate is applied (only for a
   * caller without a validator).
   */
  validation: { validate: RunValidator; scriptLimits: { maxVUs: number; maxDurationSeconds: number } } | null
  /** A project's stored file bytes, for validating a run with files or an archive. */
  readFiles?: (projectId: string) => FileReader
}

export interface CreateRunRequest {
  /** The run's id; when a run with it exists, it is returned and nothing else happens. Default: a random UUID. */
  id?: string
  projectId: string
  location: string
  /** A saved test of the project (its script and variables), or `script`. */
  testId?: string | null
  /** An unsaved script, when there is no testId (an unsaved archive's entry script, with `archive`). */
  script?: string
  /** The unsaved script's files, already stored in the project (checked by the caller). */
  files?: readonly StoredFile[]
  /** An unsaved k6 archive, already stored in the project and checked by the caller. */
  archive?: StoredArchive | null
  /** Plain variables for this run; they override the test's. */
  env?: Record<string, string>
  /**
   * Whether the run also keeps k6's per-sample JSON stream (the `samples` artifact), at a cost
   * in k6's throughput. Default: the saved test's setting (so a job's firing follows its tests
   * unless the job sets it), else false.
   */
  rawSamples?: boolean
  trigger: RunTrigger
  timeoutSeconds: number
  /** The job firing that makes this run. */
  firing?: { jobId: string; firingId: string }
  /**
   * An earlier run of the project to run again: exactly its script, files or archive and plain
   * variables (`env` overrides them), with its test's secrets while the test exists.
   */
  rerunOf?: string
}

export type CreateRunResult = { ok: true; run: Run; created: boolean } | { ok: false; refusal: RunRefusal }

const refused = (refusal: RunRefusal): CreateRunResult => ({ ok: false, refusal })

/** The API's message for script errors: `script: has an error` and each error as `line:col code: message`. */
export const scriptErrorsMessage = (errors: Finding[]) => `script: ${errors.length === 1 ? 'has an error' : `has ${errors.length} errors`}\n${formatFindings(errors)}`

export async function createRun(deps: CreateRunDeps, request: CreateRunRequest): Promise<CreateRunResult> {
  const { db } = deps
  const id = request.id ?? crypto.randomUUID()
  if (request.id !== undefined) {
    // A retry of a creation that got through (a retried activity) finds its run, whatever changed since.
    const existing = await db.run.findUnique({ where: { id } })
    if (existing) return { ok: true, run: existing, created: false }
  }

  // location
  if (deps.locations && !deps.locations.some((l) => l.id === request.location)) {
    const configured = deps.locations.map((l) => l.id)
    return refused({
      gate: 'location',
      location: request.location,
      configured,
      message: `location: "${request.location}" is not a configured location; choose one of ${configured.join(', ')}`,
    })
  }

  // test
  let script: string
  let rawSamples: boolean
  // The run's files (or archive) are a snapshot: its test's as they are now, or the ones given.
  let files: readonly StoredFile[]
  let archive: StoredArchive | null
  let testId = request.testId ?? null
  let runEnv = request.env
  if (request.rerunOf !== undefined) {
    // Exactly what the earlier run ran; its test (while it exists) gives the secrets.
    const earlier = await db.run.findUnique({
      where: { id: request.rerunOf },
      select: { projectId: true, testId: true, script: true, env: true, rawSamples: true, archiveSha256: true, archiveSize: true, files: { select: { path: true, sha256: true, size: true }, orderBy: { path: 'asc' } } },
    })
    if (!earlier || earlier.projectId !== request.projectId) return refused({ gate: 'test', testId: request.rerunOf, message: `id: run ${request.rerunOf} does not exist` })
    script = earlier.script
    rawSamples = request.rawSamples ?? earlier.rawSamples
    files = earlier.files
    archive = earlier.archiveSha256 !== null ? { sha256: earlier.archiveSha256, size: earlier.archiveSize ?? 0 } : null
    testId = earlier.testId
    runEnv = { ...plainEnv(earlier.env), ...request.env }
  } else if (testId !== null) {
    // One snapshot of the test and its files (tests.update replaces the set in one transaction).
    const id = testId
    const test = await db.$transaction(
      (tx) =>
        tx.test.findUnique({
          where: { id },
          select: { projectId: true, script: true, rawSamples: true, archiveSha256: true, archiveSize: true, files: { select: { path: true, sha256: true, size: true }, orderBy: { path: 'asc' } } },
        }),
      { isolationLevel: 'RepeatableRead' },
    )
    if (!test || test.projectId !== request.projectId) return refused({ gate: 'test', testId, message: `testId: test ${testId} does not exist` })
    script = test.script
    rawSamples = request.rawSamples ?? test.rawSamples
    files = test.files
    archive = test.archiveSha256 !== null ? { sha256: test.archiveSha256, size: test.archiveSize ?? 0 } : null
  } else {
    script = request.script ?? ''
    rawSamples = request.rawSamples ?? false
    files = request.files ?? []
    archive = request.archive ?? null
  }

  // variables
  const variables = await runVariables(db, testId, runEnv)
  if (!variables.ok) return refused({ gate: 'variables', name: variables.name, message: variables.message })
  const { env, secretNames } = variables

  // validation, caps
  if (deps.validation) {
    const project = await db.project.findUniqueOrThrow({ where: { id: request.projectId }, select: { maxVus: true, maxDurationSeconds: true } })
    const caps = capsFor(deps.validation.scriptLimits, project)
    // k6 loads the script with the run's variables; secrets get stand-ins, so no secret value can
    // surface in k6's error text (and from there in a message).
    // Its files (none is a set too: what the script opens must be among them) or its archive.
    const bundle = { files, archive, read: readerFor(deps, request.projectId) }
    const result = await deps.validation.validate({ script, env: validationEnv(env, secretNames), caps, bundle })
    // The caps hold whatever the validator applied: they are this gate's.
    const capErrors = result.requirements ? capFindings(result.requirements, caps).filter((c) => !result.errors.some((e) => e.code === c.code)) : []
    const errors = [...result.errors, ...capErrors]
    if (!result.ok && errors.length === 0) errors.push({ code: 'refused', message: 'The validator refused the script without naming an error; validate it (scripts.validate) to see why.', line: 1, column: 1 })
    if (errors.length > 0) return refused({ gate: errors.every(isCapFinding) ? 'caps' : 'validation', findings: errors, caps, message: scriptErrorsMessage(errors) })
  }

  // quota, then the row
  return db.$transaction(async (tx): Promise<CreateRunResult> => {
    // One creation at a time per project, so two cannot both pass the quota.
    const quota = await lockRunQuota(tx, request.projectId)
    if (request.id !== undefined) {
      const existing = await tx.run.findUnique({ where: { id } })
      if (existing) return { ok: true, run: existing, created: false }
    }
    if (quota.inFlight >= quota.max) {
      return refused({
        gate: 'quota',
        quota,
        message: `project "${quota.name}" already has ${quota.inFlight} run(s) queued or running and allows at most ${quota.max} at a time; wait for one to finish, cancel one, or ask an admin to raise maxConcurrentRuns`,
      })
    }
    const run = await tx.run.create({
      data: {
        id,
        projectId: request.projectId,
        testId,
        script,
        ...(env ? { env } : {}),
        locationId: request.location,
        trigger: request.trigger,
        ...(request.firing ? { jobId: request.firing.jobId, firingId: request.firing.firingId } : {}),
        status: 'queued',
        workflowId: workflowIdFor(id),
        timeoutSeconds: request.timeoutSeconds,
        rawSamples,
        ...(archive ? { archiveSha256: archive.sha256, archiveSize: archive.size } : {}),
        ...(files.length > 0 ? { files: { createMany: { data: files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })) } } } : {}),
      },
    })
    return { ok: true, run, created: true }
  })
}

function readerFor(deps: CreateRunDeps, projectId: string): FileReader {
  if (deps.readFiles) return deps.readFiles(projectId)
  return () => Promise.reject(new Error('this process cannot read stored files, so a run with files cannot be validated here'))
}

/** A run's stored plain variables (its `env` column). */
function plainEnv(stored: unknown): Record<string, string> {
  const env: Record<string, string> = {}
  if (stored && typeof stored === 'object' && !Array.isArray(stored)) {
    for (const [name, value] of Object.entries(stored)) if (typeof value === 'string') env[name] = value
  }
  return env
}
