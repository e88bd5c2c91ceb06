// Script validation before anything runs: the static checks (a parse, no engine) first, then,
// only when they pass, k6's own load of the script and the platform's VU and duration caps.
import { TRPCError } from '@trpc/server'
import { checkScript, type Finding } from '@stampede/shared/script'
import { capsFor, capsOwner, formatSeconds, type ScriptCaps } from '@stampede/shared/caps'
import type { Actor } from '../auth/actor.ts'
import type { Services } from '../context.ts'
import { inspectScript, type ExecutionRequirements } from './inspect.ts'

export interface ScriptValidation {
  ok: boolean
  errors: Finding[]
  warnings: Finding[]
  /** What k6 says the script needs; null when a check failed before k6 could tell. */
  requirements: ExecutionRequirements | null
}

/** The caps a project's scripts run under: its own quotas where set, never above the platform's. */
export async function projectLimits(services: Pick<Services, 'config' | 'db'>, projectId: string): Promise<ScriptCaps> {
  const project = await services.db.project.findUniqueOrThrow({ where: { id: projectId }, select: { maxVus: true, maxDurationSeconds: true } })
  return capsFor(services.config.scriptLimits, project)
}

/** Who asks, for the per-caller validation rate. */
type Caller = Pick<Actor, 'kind' | 'id'> | null

export async function validateScript(
  services: Pick<Services, 'config' | 'validation'>,
  script: string,
  opts: { browserSupported?: boolean; env?: Record<string, string>; limits?: ScriptCaps; caller?: Caller } = {},
): Promise<ScriptValidation> {
  const { errors, warnings, language } = checkScript(script, { browserSupported: opts.browserSupported ?? false })
  if (errors.length > 0 || language === null) return { ok: false, errors, warnings, requirements: null }

  // k6 is a process per call: each caller has a rate, and all callers share a few k6 slots.
  const { gate, sandbox } = services.validation
  if (opts.caller) gate.charge(`${opts.caller.kind}:${opts.caller.id}`)
  const { sandbox: limits } = services.config
  const inspected = await gate.run(() =>
    inspectScript(script, { sandbox, limits: limits.validation, timeoutMs: limits.validationTimeoutMs, language, ...(opts.env ? { env: opts.env } : {}) }),
  )
  if (!inspected.ok) return { ok: false, errors: [inspected.error], warnings, requirements: null }

  const { requirements } = inspected
  const { maxVUs, maxDurationSeconds, owner } = opts.limits ?? { ...services.config.scriptLimits, owner: 'platform' }
  const limitErrors: Finding[] = []
  const whose = capsOwner({ owner })
  if (requirements.maxVUs > maxVUs) {
    limitErrors.push({ code: 'too-many-vus', message: `The script needs up to ${requirements.maxVUs} VUs; ${whose} allows at most ${maxVUs}. Lower vus, stage targets or maxVUs to ${maxVUs} or fewer.`, line: 1, column: 1 })
  }
  if (requirements.totalDurationSeconds > maxDurationSeconds) {
    limitErrors.push({
      code: 'too-long',
      message: `The script can run for up to ${formatSeconds(Math.ceil(requirements.totalDurationSeconds))} (durations plus graceful stops, or maxDuration for iteration-based scenarios); ${whose} allows at most ${formatSeconds(maxDurationSeconds)}. Shorten the stages or durations.`,
      line: 1,
      column: 1,
    })
  }
  return { ok: limitErrors.length === 0, errors: limitErrors, warnings, requirements }
}

/** What a secret's variable holds while k6 loads a script for validation (never the real value). */
export const SECRET_STAND_IN = 'secret-value-withheld-during-validation'

/** The environment k6 loads a script with during validation: plain values, stand-ins for secrets. */
export function validationEnv(plain: Record<string, string> | null, secretNames: Iterable<string>): Record<string, string> {
  const env = { ...plain }
  for (const name of secretNames) env[name] = SECRET_STAND_IN
  return env
}

export const formatFindings = (findings: Finding[]) => findings.map((f) => `${f.line}:${f.column} ${f.code}: ${f.message}`).join('\n')

/** Throws BAD_REQUEST listing every error when the script must not be saved or run. */
export async function assertRunnable(
  ctx: Pick<Services, 'config' | 'validation'> & { actor: Caller },
  script: string,
  env?: Record<string, string>,
  limits?: ScriptCaps,
): Promise<ScriptValidation> {
  const result = await validateScript(ctx, script, { ...(env ? { env } : {}), ...(limits ? { limits } : {}), caller: ctx.actor })
  if (!result.ok) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `script: ${result.errors.length === 1 ? 'has an error' : `has ${result.errors.length} errors`}\n${formatFindings(result.errors)}` })
  }
  return result
}
