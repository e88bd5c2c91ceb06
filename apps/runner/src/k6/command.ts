// The run's own part of how k6 is invoked: outputs into the run's private directory, the HTML
// report exported with the dashboard's HTTP server off, the target policy. The rest (subcommand,
// common flags, script name, an environment that carries nothing of the platform's own: no
// database URL, no S3 or Temporal credentials) is @stampede/sandbox's k6Invocation, shared with
// validation. The target policy goes in as CLI flags because k6 ranks flags above both its
// environment and the script's `options`.
import { K6_OUTPUT_FILES, k6EntryPath, k6Invocation, type K6ScriptFile } from '@stampede/sandbox'
import type { TargetPolicy } from '@stampede/shared/targets'
import { SUMMARY_TREND_STATS } from '@stampede/shared/k6'
import { scriptFileName } from '@stampede/shared/script'

export const SCRIPT_FILE = scriptFileName('javascript')
/** Where a JavaScript run's script is in its directory (the test's folder), as k6Args names it. */
export const SCRIPT_PATH = k6EntryPath(SCRIPT_FILE)
export const OUTPUT_FILES = {
  /** What k6 writes (summary, report, frames, samples): named where every k6's directory is defined. */
  ...K6_OUTPUT_FILES,
  log: 'console.log',
  /** The metric frames (`frames`) gzipped once k6 ended: the run's `metrics` artifact. */
  metrics: 'metrics.ndjson.gz',
  consoleIndex: 'console.ndjson',
} as const

/** The files k6 writes into the run's directory: the only ones it may write. */
export function k6Writes(opts: { rawSamples?: boolean } = {}): string[] {
  return [OUTPUT_FILES.summary, OUTPUT_FILES.report, OUTPUT_FILES.frames, ...(opts.rawSamples ? [OUTPUT_FILES.samples] : [])]
}
/** Every file k6 may have written, whatever the run asked for. */
export { K6_OUTPUTS } from '@stampede/sandbox'

/**
 * `policy` comes from resolveTargetPolicy: every k6 run states which targets it may reach.
 * With `control`, k6 starts paused with its REST API on that address (see control.ts). The
 * metric frames are always written; k6's per-sample JSON only with `rawSamples` (it costs about
 * 40 % of k6's throughput on a CPU-bound script).
 */
export function k6RunFlags(policy: Pick<TargetPolicy, 'blacklistIPs' | 'blockHostnames'>, opts: { control?: string; rawSamples?: boolean; report?: boolean } = {}): string[] {
  return [
    ...(opts.control ? ['--paused', `--address=${opts.control}`] : []),
    `--summary-trend-stats=${SUMMARY_TREND_STATS.join(',')}`,
    `--summary-export=${OUTPUT_FILES.summary}`,
    '--out',
    `stampede=${OUTPUT_FILES.frames}`,
    ...(opts.rawSamples ? ['--out', `json=${OUTPUT_FILES.samples}`] : []),
    // The HTML report (the web dashboard's export, its server off), unless the runner turns it off.
    ...(opts.report === false ? [] : ['--out', 'web-dashboard']),
    // A flag replaces the script's list rather than adding to it. An empty list is left out, so
    // k6 falls back to the script's own list, which can only block more.
    ...(policy.blacklistIPs.length > 0 ? [`--blacklist-ip=${policy.blacklistIPs.join(',')}`] : []),
    ...(policy.blockHostnames.length > 0 ? [`--block-hostnames=${policy.blockHostnames.join(',')}`] : []),
  ]
}

/** `k6 run`'s whole argv as the runner invokes it (tests and benchmarks that run k6 directly). */
export function k6Args(scriptFile: K6ScriptFile, policy: Pick<TargetPolicy, 'blacklistIPs' | 'blockHostnames'>, opts: Parameters<typeof k6RunFlags>[1] = {}): string[] {
  return k6Invocation({ purpose: 'run', scriptFile, vars: {}, flags: k6RunFlags(policy, opts) }).args
}

/** k6's environment outside the sandbox (tests and benchmarks that run k6 directly): HOME is the host directory. */
export function k6Env(workDir: string, runEnv: Record<string, string> = {}): Record<string, string> {
  return k6Invocation({ purpose: 'run', scriptFile: SCRIPT_FILE, vars: runEnv }, workDir).env
}
