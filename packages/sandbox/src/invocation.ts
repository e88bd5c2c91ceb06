// How the platform invokes k6, the one definition for script validation (`k6 inspect`, in
// @stampede/runs) and runs (`k6 run`, in the runner): the subcommand, the flags every k6 gets, the
// script's file name and the environment. What a script can observe (its __ENV, HOME, TMPDIR, PATH,
// working directory, its own file name and the files beside it, the k6 binary's path) is the
// same for both; what differs is only what the purpose asks for, and stays a parameter here:
// - the purpose's own flags (inspect: JSON logs and --execution-requirements; run: outputs,
//   target policy, the REST API), given by the caller;
// - `defaultVus` (inspect only): `k6 inspect` lacks `k6 run`'s default of 1 VU (see inspect.ts);
// - `maxSeries`: the runner's METRICS_MAX_SERIES; validation does not know it and gives the default;
// - the limits, the writable files and the wall time, which the caller gives to K6Sandbox.plan
//   and spawnPlan (validation's are smaller).
import { k6EntryPath, k6Environment, SANDBOX_WORK_DIR, type K6EntryName } from './layout.ts'

export type K6Purpose = 'inspect' | 'run'

/** The entry's name in the test's folder: scriptFileName(language), or an archive. */
export type K6ScriptFile = K6EntryName

interface InvocationBase {
  /** From scriptFileName(language) (the same mapping for validation and runs), or ARCHIVE_ENTRY. */
  scriptFile: K6ScriptFile
  /** The run's variables: its secrets in a run, their stand-ins in validation. */
  vars: Record<string, string>
  /** The purpose's own flags, between the common ones and the script. */
  flags?: readonly string[]
  /** The cap on tagged metric series (K6_STAMPEDE_MAX_SERIES); default DEFAULT_MAX_SERIES. */
  maxSeries?: number
}

export type K6InvocationRequest =
  | (InvocationBase & { purpose: 'run' })
  | (InvocationBase & {
      purpose: 'inspect'
      /** K6_VUS for a script that sets no VUs: what `k6 run` assumes and `k6 inspect` (k6 v2.2.0) does not. `k6 inspect` takes no --vus flag. */
      defaultVus?: number
    })

export interface K6Invocation {
  /** k6's arguments (without the binary). */
  args: string[]
  /** k6's whole environment. */
  env: Record<string, string>
}

/**
 * Flags of every k6 process. --include-system-env-vars is `k6 run`'s default and not `k6
 * inspect`'s: set for both, the script sees the same __ENV in validation and run.
 */
export const COMMON_K6_FLAGS: readonly string[] = ['--no-color', '--include-system-env-vars']

/**
 * k6's arguments and environment for `request`. `home` is where k6 runs as k6 sees it:
 * SANDBOX_WORK_DIR in the sandbox (K6Sandbox.invocation passes the directory's k6Path), the host
 * directory for a k6 started without the sandbox.
 */
export function k6Invocation(request: K6InvocationRequest, home: string = SANDBOX_WORK_DIR): K6Invocation {
  const env = k6Environment(request.vars, home, request.maxSeries === undefined ? {} : { maxSeries: request.maxSeries })
  if (request.purpose === 'inspect' && request.defaultVus !== undefined) env.K6_VUS = String(request.defaultVus)
  return {
    args: [request.purpose, ...COMMON_K6_FLAGS, ...(request.flags ?? []), k6EntryPath(request.scriptFile)],
    env,
  }
}
