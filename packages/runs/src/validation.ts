// Script validation before anything runs: the static checks (a parse, no engine) first, then,
// only when they pass, k6's own load of the script (the engine check, `k6 inspect`) and the VU
// and duration caps. The API (scripts.validate, tests.create/update, runs.start) and the
// orchestration worker (scheduled firings) apply the same checks; each brings its own engine
// check (the API bounds it per caller with its validation gate).
import pLimit from 'p-limit'
import type { K6Sandbox } from '@stampede/sandbox'
import { capsOwner, formatSeconds, type ScriptCaps } from '@stampede/shared/caps'
import type { K6ProcessLimits } from '@stampede/shared/platform-config'
import { checkScript, type Finding, type ScriptLanguage } from '@stampede/shared/script'
import { inspectScript, type ExecutionRequirements, type InspectResult } from './inspect.ts'
import { InspectCache } from './inspect-cache.ts'
import { checkModules, readOnce, type TestBundle } from './bundle.ts'

export interface ScriptValidation {
  ok: boolean
  errors: Finding[]
  warnings: Finding[]
  /** What k6 says the script needs; null when a check failed before k6 could tell. */
  requirements: ExecutionRequirements | null
}

/** The codes of the caps' findings (the caps gate); every other error is the validation gate's. */
export const CAP_FINDING_CODES: readonly string[] = ['too-many-vus', 'too-long']
export const isCapFinding = (f: Pick<Finding, 'code'>): boolean => CAP_FINDING_CODES.includes(f.code)

/** Why what k6 says the script needs is over the caps; empty when it is within them. */
export function capFindings(requirements: ExecutionRequirements, caps: ScriptCaps): Finding[] {
  const findings: Finding[] = []
  const whose = capsOwner(caps)
  if (requirements.maxVUs > caps.maxVUs) {
    findings.push({ code: 'too-many-vus', message: `The script needs up to ${requirements.maxVUs} VUs; ${whose} allows at most ${caps.maxVUs}. Lower vus, stage targets or maxVUs to ${caps.maxVUs} or fewer.`, line: 1, column: 1 })
  }
  if (requirements.totalDurationSeconds > caps.maxDurationSeconds) {
    findings.push({
      code: 'too-long',
      message: `The script can run for up to ${formatSeconds(Math.ceil(requirements.totalDurationSeconds))} (durations plus graceful stops, or maxDuration for iteration-based scenarios); ${whose} allows at most ${formatSeconds(caps.maxDurationSeconds)}. Shorten the stages or durations.`,
      line: 1,
      column: 1,
    })
  }
  return findings
}

/** k6's load of the script in the given language: what the caller's engine check does. */
export type EngineCheck = (language: ScriptLanguage) => Promise<InspectResult>

/**
 * The static checks, then (only when they pass) the engine check, then the caps. With a bundle,
 * the script's local imports and literal open() paths must name its files, and so must those of
 * the modules it reaches; an archive carries its own files, so k6 alone checks what it loads.
 */
export async function validateScriptWith(script: string, opts: { engine: EngineCheck; caps: ScriptCaps; browserSupported?: boolean; bundle?: TestBundle }): Promise<ScriptValidation> {
  const browserSupported = opts.browserSupported ?? false
  const bundle = opts.bundle
  const files = bundle && !bundle.archive ? new Set(bundle.files.map((f) => f.path)) : undefined
  const { errors, warnings, language } = checkScript(script, { browserSupported, ...(files ? { files } : {}) })
  if (errors.length > 0 || language === null) return { ok: false, errors, warnings, requirements: null }
  if (bundle && files && files.size > 0) {
    const modules = await checkModules(script, bundle, { browserSupported })
    warnings.push(...modules.warnings)
    if (modules.errors.length > 0) return { ok: false, errors: modules.errors, warnings, requirements: null }
  }
  const inspected = await opts.engine(language)
  if (!inspected.ok) return { ok: false, errors: [inspected.error], warnings, requirements: null }
  const limitErrors = capFindings(inspected.requirements, opts.caps)
  return { ok: limitErrors.length === 0, errors: limitErrors, warnings, requirements: inspected.requirements }
}

/** What a secret's variable holds while k6 loads a script for validation (never the real value). */
export const SECRET_STAND_IN = 'secret-value-withheld-during-validation'

/** The environment k6 loads a script with during validation: plain values, stand-ins for secrets. */
export function validationEnv(plain: Record<string, string> | null, secretNames: Iterable<string>): Record<string, string> {
  const env = { ...plain }
  for (const name of secretNames) env[name] = SECRET_STAND_IN
  return env
}

/** Findings as `line:col code: message` (`file:line:col …` in a module), one a line. */
export const formatFindings = (findings: Finding[]) => findings.map((f) => `${f.file ? `${f.file}:` : ''}${f.line}:${f.column} ${f.code}: ${f.message}`).join('\n')

/** What createRun asks a validator: the script, the run's environment (secrets as stand-ins) and its caps. */
export interface RunValidationRequest {
  script: string
  env: Record<string, string>
  caps: ScriptCaps
  /** The run's files or archive, when it has any. */
  bundle?: TestBundle
}

/**
 * Validates a run's script. Answers the findings (errors refuse the run); throws only when it
 * cannot tell (the sandbox cannot start k6, a busy validation service): nothing is decided then.
 */
export type RunValidator = (request: RunValidationRequest) => Promise<ScriptValidation>

export interface K6ValidatorOptions {
  /** The k6 sandbox `k6 inspect` runs in (the runner's own will do: validations get private directories). */
  sandbox: K6Sandbox
  /** The validation's k6 limits: RunnerConfig `sandbox.validation`. */
  limits: K6ProcessLimits & { cpuSeconds: number }
  /** Wall-clock time k6 may take to load a script: RunnerConfig `sandbox.validationTimeoutMs`. */
  timeoutMs: number
  /** `k6 inspect` processes at once; later validations wait their turn (default 2). */
  concurrency?: number
  /** k6's recent answers (a job fires the same script again and again); default a new cache. */
  cache?: InspectCache
}

/**
 * The validator of a process without the API's per-caller gate (the orchestration worker, for
 * scheduled runs): the same static checks, engine check and caps runs.start applies, with at most
 * `concurrency` k6 processes at once.
 */
export function k6Validator(opts: K6ValidatorOptions): RunValidator {
  const slot = pLimit(Math.max(1, opts.concurrency ?? 2))
  const cache = opts.cache ?? new InspectCache()
  return ({ script, env, caps, bundle: given }) => {
    const bundle = given && { ...given, read: readOnce(given.read) }
    return validateScriptWith(script, {
      caps,
      ...(bundle ? { bundle } : {}),
      engine: (language) =>
        cache.inspect({ script, language, env, ...(bundle ? { bundle } : {}) }, () =>
          slot(() => inspectScript(script, { sandbox: opts.sandbox, limits: opts.limits, timeoutMs: opts.timeoutMs, language, env, ...(bundle ? { bundle } : {}) })),
        ),
    })
  }
}
