// How the runner invokes k6: outputs into the run's private directory, the HTML report
// exported with the dashboard's HTTP server off, and an environment that carries nothing of
// the platform's own (no database URL, no S3 or Temporal credentials).
import { SUMMARY_TREND_STATS } from '@stampede/shared/k6'

export const SCRIPT_FILE = 'script.js'
export const OUTPUT_FILES = {
  summary: 'summary.json',
  report: 'report.html',
  log: 'console.log',
  metrics: 'metrics.json.gz',
  consoleIndex: 'console.ndjson',
} as const

export function k6Args(): string[] {
  return [
    'run',
    '--no-color',
    `--summary-trend-stats=${SUMMARY_TREND_STATS.join(',')}`,
    `--summary-export=${OUTPUT_FILES.summary}`,
    '--out',
    `json=${OUTPUT_FILES.metrics}`,
    '--out',
    'web-dashboard',
    SCRIPT_FILE,
  ]
}

export function k6Env(workDir: string, runEnv: Record<string, string> = {}): Record<string, string> {
  return {
    ...runEnv,
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
