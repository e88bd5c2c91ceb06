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
// the saved test's setting, else false). Starting its workflow is the caller's.
// A refusal says which gate refused, what is wrong and how to fix it; nothing is written then.
// Creation with a given id is idempotent: a run that already exists is returned as it is.
import { lockRunQuota, type Db, type Run, type RunQuota } from '@stampede/db'
import { capsFor, type ScriptCaps } from '@stampede/shared/caps'
import type { RunTrigger } from '@stampede/shared'
import type { Finding } from '@stampede/shared/script'
import { workflowIdFor } from '@stampede/shared/temporal'
import { capFindings, formatFindings, isCapFinding, validationEnv, type RunValidator } from './validation.ts'
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
}

export interface CreateRunRequest {
  /** The run's id; when a run with it exists, it is returned and nothing else happens. Default: a random UUID. */
  id?: string
  projectId: string
  location: string
  /** A saved test of the project (its script and variables), or `script`. */
  testId?: string | null
  /** An unsaved script, when there is no testId. */
  script?: string
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
  const testId = request.testId ?? null
  if (testId !== null) {
    const test = await db.test.findUnique({ where: { id: testId }, select: { projectId: true, script: true, rawSamples: true } })
    if (!test || test.projectId !== request.projectId) return refused({ gate: 'test', testId, message: `testId: test ${testId} does not exist` })
    script = test.script
    rawSamples = request.rawSamples ?? test.rawSamples
  } else {
    script = request.script ?? ''
    rawSamples = request.rawSamples ?? false
  }

  // variables
  const variables = await runVariables(db, testId, request.env)
  if (!variables.ok) return refused({ gate: 'variables', name: variables.name, message: variables.message })
  const { env, secretNames } = variables

  // validation, caps
  if (deps.validation) {
    const project = await db.project.findUniqueOrThrow({ where: { id: request.projectId }, select: { maxVus: true, maxDurationSeconds: true } })
    const caps = capsFor(deps.validation.scriptLimits, project)
    // k6 loads the script with the run's variables; secrets get stand-ins, so no secret value can
    // surface in k6's error text (and from there in a message).
    const result = await deps.validation.validate({ script, env: validationEnv(env, secretNames), caps })
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
      },
    })
    return { ok: true, run, created: true }
  })
}
