// How the runner invokes k6: outputs into the run's private directory, the HTML report
// exported with the dashboard's HTTP server off, and an environment that carries nothing of
// the platform's own (no database URL, no S3 or Temporal credentials). The target policy goes
// in as CLI flags because k6 ranks flags above both its environment and the script's `options`.
import { k6Environment } from '@stampede/sandbox'
import type { TargetPolicy } from '@stampede/shared/targets'
import { SUMMARY_TREND_STATS } from '@stampede/shared/k6'
import { scriptFileName } from '@stampede/shared/script'

export const SCRIPT_FILE = scriptFileName('javascript')
export const OUTPUT_FILES = {
  summary: 'summary.json',
  report: 'report.html',
  log: 'console.log',
  /** Stampede's metric frames as k6 writes them (packages/k6-output/FRAMES.md)… */
  frames: 'metrics.ndjson',
  /** …and gzipped once k6 ended: the run's `metrics` artifact. */
  metrics: 'metrics.ndjson.gz',
  /** k6's per-sample JSON stream, only when the run asked for raw samples: the `samples` artifact. */
  samples: 'samples.json.gz',
  consoleIndex: 'console.ndjson',
} as const

/** The files k6 writes into the run's directory: the only ones it may write. */
export function k6Writes(opts: { rawSamples?: boolean } = {}): string[] {
  return [OUTPUT_FILES.summary, OUTPUT_FILES.report, OUTPUT_FILES.frames, ...(opts.rawSamples ? [OUTPUT_FILES.samples] : [])]
}
/** Every file k6 may have written, whatever the run asked for. */
export const K6_OUTPUTS: readonly string[] = k6Writes({ rawSamples: true })

/**
 * `policy` comes from resolveTargetPolicy: every k6 run states which targets it may reach.
 * With `control`, k6 starts paused with its REST API on that address (see control.ts). The
 * metric frames are always written; k6's per-sample JSON only with `rawSamples` (it costs about
 * 40 % of k6's throughput on a CPU-bound script).
 */
export function k6Args(scriptFile: string, policy: Pick<TargetPolicy, 'blacklistIPs' | 'blockHostnames'>, opts: { control?: string; rawSamples?: boolean; report?: boolean } = {}): string[] {
  return [
    'run',
    '--no-color',
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
    scriptFile,
  ]
}

/** k6's environment outside the sandbox (tests and benchmarks that run k6 directly). */
export function k6Env(workDir: string, runEnv: Record<string, string> = {}): Record<string, string> {
  return k6Environment(runEnv, workDir)
}
