// Human output: aligned tables and the results block printed when a run ends.
import type { Job, Location, Run, Test } from '@stampede/sdk'

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

const ms = (v: number | null) => (v === null ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(2)}ms`)
const num = (v: number | null) => (v === null ? '–' : String(v))
const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)}%`)
const bytes = (v: number | null) => (v === null ? '–' : v >= 1024 * 1024 ? `${(v / 1024 / 1024).toFixed(1)} MB` : v >= 1024 ? `${(v / 1024).toFixed(1)} kB` : `${v} B`)
const duration = (v: number | null) => (v === null ? '–' : `${(v / 1000).toFixed(1)}s`)

export const STATUS_WORDS: Record<Run['status'], string> = {
  queued: 'QUEUED',
  running: 'RUNNING',
  passed: 'PASSED',
  failed: 'FAILED (thresholds crossed)',
  error: 'ERROR',
  cancelled: 'CANCELLED',
  timed_out: 'TIMED OUT',
}

export function formatResults(run: Run): string {
  const m = run.metrics
  const out: string[] = []
  out.push(`Run ${run.id}  ${STATUS_WORDS[run.status]}  (${run.location}, ${duration(run.durationMs)}${run.exitCode !== null ? `, k6 exit ${run.exitCode}` : ''}${run.rawSamples ? ', raw samples' : ''})`)
  if (run.errorMessage) out.push(`  ${run.errorMessage}`)
  if (run.metricsNote) out.push(`  note: ${run.metricsNote}`)
  if (run.thresholds.length > 0) {
    out.push('', table(['threshold', '', 'result'], run.thresholds.map((t) => [t.metric, t.expression, t.ok ? 'ok' : 'CROSSED'])))
  }
  const d = m.httpReqDuration
  const rows: string[][] = [
    ['http_reqs', num(m.httpReqs), m.httpReqRate === null ? '' : `${m.httpReqRate.toFixed(2)}/s`],
    ['http_req_failed', pct(m.httpReqFailedRate), ''],
    ['http_req_duration', `avg ${ms(d.avg)}`, `p90 ${ms(d.p90)}  p95 ${ms(d.p95)}  p99 ${ms(d.p99)}  max ${ms(d.max)}`],
    ['iterations', num(m.iterations), ''],
    ['vus_max', num(m.vusMax), ''],
    ['checks', m.checksPassed === null ? '–' : `${m.checksPassed} passed`, m.checksFailed === null ? '' : `${m.checksFailed} failed`],
    ['data', `sent ${bytes(m.dataSent)}`, `received ${bytes(m.dataReceived)}`],
  ]
  out.push('', table(['metric', 'value', ''], rows))
  return out.join('\n')
}

export function formatRunList(runs: Run[]): string {
  return table(
    ['id', 'status', 'location', 'trigger', 'created', 'duration', 'p95'],
    runs.map((r) => [r.id, r.status, r.location, r.trigger, r.createdAt, duration(r.durationMs), ms(r.metrics.httpReqDuration.p95)]),
  )
}

export function formatTests(tests: Test[]): string {
  return table(
    ['id', 'name', 'updated', 'last run'],
    tests.map((t) => [t.id, t.name, t.updatedAt, t.lastRun ? `${t.lastRun.status} ${t.lastRun.createdAt}` : '–']),
  )
}

export function formatLocations(locations: Location[]): string {
  return table(
    ['id', 'name', 'region', 'runner'],
    locations.map((l) => [l.id, l.name, l.region, l.runnerAvailable ? 'available' : 'none polling']),
  )
}

export function formatJobs(jobs: Job[]): string {
  return table(
    ['id', 'name', 'schedule', 'location', 'state', 'next firing', 'last outcome'],
    jobs.map((j) => [
      j.id,
      j.name,
      `${j.cron} (${j.timezone})`,
      j.location,
      j.enabled ? ('state' in j.schedule ? j.schedule.state : 'active') : 'paused',
      ('nextFirings' in j.schedule ? j.schedule.nextFirings[0] : undefined) ?? '–',
      j.lastFiring ? `${j.lastFiring.status} ${j.lastFiring.scheduledAt}` : '–',
    ]),
  )
}
