// Script validation before anything runs: the static checks (a parse, no engine) first, then,
// only when they pass, k6's own load of the script and the platform's VU and duration caps.
import { TRPCError } from '@trpc/server'
import { checkScript, type Finding } from '@stampede/shared/script'
import { resolveTool } from '@stampede/tools'
import type { Services } from '../context.ts'
import { inspectScript, type ExecutionRequirements } from './inspect.ts'

export interface ScriptValidation {
  ok: boolean
  errors: Finding[]
  warnings: Finding[]
  /** What k6 says the script needs; null when a check failed before k6 could tell. */
  requirements: ExecutionRequirements | null
}

export interface ScriptLimits {
  maxVUs: number
  maxDurationSeconds: number
  /** Whose caps these are, for the message. */
  owner: 'platform' | 'project'
}

/** The caps a project's scripts run under: its own quotas where set, never above the platform's. */
export async function projectLimits(services: Pick<Services, 'config' | 'db'>, projectId: string): Promise<ScriptLimits> {
  const project = await services.db.project.findUniqueOrThrow({ where: { id: projectId }, select: { maxVus: true, maxDurationSeconds: true } })
  return limitsFor(services.config.scriptLimits, project)
}

/** The caps of a project row already read: its quotas where set, never above the platform's. */
export function limitsFor(platform: { maxVUs: number; maxDurationSeconds: number }, project: { maxVus: number | null; maxDurationSeconds: number | null }): ScriptLimits {
  const maxVUs = Math.min(platform.maxVUs, project.maxVus ?? Infinity)
  const maxDurationSeconds = Math.min(platform.maxDurationSeconds, project.maxDurationSeconds ?? Infinity)
  const owner = maxVUs < platform.maxVUs || maxDurationSeconds < platform.maxDurationSeconds ? 'project' : 'platform'
  return { maxVUs, maxDurationSeconds, owner }
}

let resolvedK6: Promise<string> | undefined
async function k6Bin(services: Pick<Services, 'config'>): Promise<string> {
  if (services.config.k6BinPath) return services.config.k6BinPath
  resolvedK6 ??= resolveTool('k6').then((t) => t.path)
  return resolvedK6
}

const minutes = (s: number) => (s % 60 === 0 ? `${s / 60} min` : `${s} s`)

export async function validateScript(
  services: Pick<Services, 'config'>,
  script: string,
  opts: { browserSupported?: boolean; env?: Record<string, string>; limits?: ScriptLimits } = {},
): Promise<ScriptValidation> {
  const { errors, warnings, language } = checkScript(script, { browserSupported: opts.browserSupported ?? false })
  if (errors.length > 0 || language === null) return { ok: false, errors, warnings, requirements: null }

  const inspected = await inspectScript(script, { k6BinPath: await k6Bin(services), language, ...(opts.env ? { env: opts.env } : {}) })
  if (!inspected.ok) return { ok: false, errors: [inspected.error], warnings, requirements: null }

  const { requirements } = inspected
  const { maxVUs, maxDurationSeconds, owner } = opts.limits ?? { ...services.config.scriptLimits, owner: 'platform' }
  const limitErrors: Finding[] = []
  if (requirements.maxVUs > maxVUs) {
    limitErrors.push({ code: 'too-many-vus', message: `The script needs up to ${requirements.maxVUs} VUs; ${owner === 'project' ? 'this project' : 'this platform'} allows at most ${maxVUs}. Lower vus, stage targets or maxVUs to ${maxVUs} or fewer.`, line: 1, column: 1 })
  }
  if (requirements.totalDurationSeconds > maxDurationSeconds) {
    limitErrors.push({
      code: 'too-long',
      message: `The script can run for up to ${minutes(Math.ceil(requirements.totalDurationSeconds))} (durations plus graceful stops, or maxDuration for iteration-based scenarios); ${owner === 'project' ? 'this project' : 'this platform'} allows at most ${minutes(maxDurationSeconds)}. Shorten the stages or durations.`,
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
  services: Pick<Services, 'config'>,
  script: string,
  env?: Record<string, string>,
  limits?: ScriptLimits,
): Promise<ScriptValidation> {
  const result = await validateScript(services, script, { ...(env ? { env } : {}), ...(limits ? { limits } : {}) })
  if (!result.ok) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `script: ${result.errors.length === 1 ? 'has an error' : `has ${result.errors.length} errors`}\n${formatFindings(result.errors)}` })
  }
  return result
}
