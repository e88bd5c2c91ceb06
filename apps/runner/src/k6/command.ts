// How the runner invokes k6: outputs into the run's private directory, the HTML report
// exported with the dashboard's HTTP server off, and an environment that carries nothing of
// the platform's own (no database URL, no S3 or Temporal credentials). The target policy goes
// in as CLI flags because k6 ranks flags above both its environment and the script's `options`.
import type { TargetPolicy } from '@stampede/shared/targets'
import { SUMMARY_TREND_STATS } from '@stampede/shared/k6'
import { scriptFileName } from '@stampede/shared/script'

export const SCRIPT_FILE = scriptFileName('javascript')
export const OUTPUT_FILES = {
  summary: 'summary.json',
  report: 'report.html',
  log: 'console.log',
  metrics: 'metrics.json.gz',
  consoleIndex: 'console.ndjson',
} as const

/** `policy` comes from resolveTargetPolicy: every k6 run states which targets it may reach. */
export function k6Args(scriptFile: string, policy: Pick<TargetPolicy, 'blacklistIPs' | 'blockHostnames'>): string[] {
  return [
    'run',
    '--no-color',
    `--summary-trend-stats=${SUMMARY_TREND_STATS.join(',')}`,
    `--summary-export=${OUTPUT_FILES.summary}`,
    '--out',
    `json=${OUTPUT_FILES.metrics}`,
    '--out',
    'web-dashboard',
    // A flag replaces the script's list rather than adding to it. An empty list is left out, so
    // k6 falls back to the script's own list, which can only block more.
    ...(policy.blacklistIPs.length > 0 ? [`--blacklist-ip=${policy.blacklistIPs.join(',')}`] : []),
    ...(policy.blockHostnames.length > 0 ? [`--block-hostnames=${policy.blockHostnames.join(',')}`] : []),
    scriptFile,
  ]
}

/** Names a run's variables may not set: k6's own settings and what the runner sets for k6. */
const PLATFORM_ENV = /^(K6_.*|PATH|HOME|TMPDIR)$/i

export function k6Env(workDir: string, runEnv: Record<string, string> = {}): Record<string, string> {
  return {
    // The API refuses such names; filtered here too so an old row or a direct insert cannot
    // redirect k6's outputs or binaries.
    ...Object.fromEntries(Object.entries(runEnv).filter(([name]) => !PLATFORM_ENV.test(name))),
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: workDir,
    TMPDIR: workDir,
    K6_NO_USAGE_REPORT: 'true',
    K6_WEB_DASHBOARD_EXPORT: OUTPUT_FILES.report,
    K6_WEB_DASHBOARD_PORT: '-1',
    // The dashboard's default 10 s period skips the report for short runs ("not enough data").
    K6_WEB_DASHBOARD_PERIOD: '1s',
  }
}
