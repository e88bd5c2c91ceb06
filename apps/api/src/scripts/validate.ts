// Script validation before anything runs, as @stampede/runs defines it (static checks, then k6's
// own load of the script, then the VU and duration caps), with the API's engine check: each
// caller has a validation rate, and all callers share a few k6 slots (the validation gate).
import { TRPCError } from '@trpc/server'
import { capsFor, type ScriptCaps } from '@stampede/shared/caps'
import { inspectScript, readOnce, scriptErrorsMessage, validateScriptWith, type RunValidator, type ScriptValidation, type TestBundle } from '@stampede/runs'
import type { Actor } from '../auth/actor.ts'
import type { Services } from '../context.ts'

export { formatFindings, SECRET_STAND_IN, validationEnv, type ScriptValidation } from '@stampede/runs'

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
  opts: { browserSupported?: boolean; env?: Record<string, string>; limits?: ScriptCaps; caller?: Caller; bundle?: TestBundle | undefined } = {},
): Promise<ScriptValidation> {
  const { gate, sandbox, cache } = services.validation
  const { sandbox: limits } = services.config
  // The test's files (none is a set too: what the script opens must be among them) or its
  // archive: each blob read once for the module checks and k6's directory.
  const bundle = opts.bundle ? { bundle: { ...opts.bundle, read: readOnce(opts.bundle.read) } } : {}
  return validateScriptWith(script, {
    caps: opts.limits ?? { ...services.config.scriptLimits, owner: 'platform' },
    ...(opts.browserSupported !== undefined ? { browserSupported: opts.browserSupported } : {}),
    ...bundle,
    // k6 is a process per call: each caller has a rate, and all callers share a few k6 slots. A
    // script k6 loaded in the last minutes is answered from the cache, still counted in the rate.
    engine: async (language) => {
      if (opts.caller) gate.charge(`${opts.caller.kind}:${opts.caller.id}`)
      const env = opts.env ? { env: opts.env } : {}
      return cache.inspect({ script, language, ...env, ...bundle }, () => gate.run(() => inspectScript(script, { sandbox, limits: limits.validation, timeoutMs: limits.validationTimeoutMs, language, ...env, ...bundle })))
    },
  })
}

/** The API's validator for createRun: validateScript, charged to the caller. */
export const apiValidator = (ctx: Pick<Services, 'config' | 'validation'> & { actor: Caller }): RunValidator => ({ script, env, caps, bundle }) => validateScript(ctx, script, { env, limits: caps, caller: ctx.actor, bundle })

/** Throws BAD_REQUEST listing every error when the script must not be saved or run. */
export async function assertRunnable(
  ctx: Pick<Services, 'config' | 'validation'> & { actor: Caller },
  script: string,
  env?: Record<string, string>,
  limits?: ScriptCaps,
  bundle?: TestBundle,
): Promise<ScriptValidation> {
  const result = await validateScript(ctx, script, { ...(env ? { env } : {}), ...(limits ? { limits } : {}), caller: ctx.actor, bundle })
  if (!result.ok) throw new TRPCError({ code: 'BAD_REQUEST', message: scriptErrorsMessage(result.errors) })
  return result
}
