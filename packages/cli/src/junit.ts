// `stampede run … --junit <file>`: the run as JUnit XML, the format CI systems (GitHub Actions
// reporters, GitLab, Jenkins, Azure) show as test results. One <testsuite> for the run with
// - one <testcase> per threshold (classname `thresholds`), a <failure> when it was crossed,
//   naming the metric, the expression and the value k6 observed;
// - one <testcase> per check (classname `checks`, or `checks.<group>` for checks in a k6
//   group()), a <failure> when any of its passes failed, with the counts. The per-check counts
//   come from the run's k6 summary (the `summary` artifact: root_group's checks); when the run
//   has none (no summary stored, or it could not be read), one testcase `checks` from the run's
//   totals (runs.byId: checksPassed/checksFailed), saying why;
// - one <testcase> for the run itself (classname `run`), a <failure> when it errored, timed out
//   or was cancelled, with the run's errorMessage.
// The XML is written with xmlbuilder2, which escapes markup characters and replaces characters
// XML 1.0 cannot hold (control characters in a check's name or k6's error text) with U+FFFD.
import { create } from 'xmlbuilder2'
import type { K6Summary } from '@stampede/shared/k6'
import type { Run, ScriptValidation } from '@stampede/sdk'

/** One k6 check and where it is: `group` is k6's group path without the leading `::` ('' for the root). */
export interface CheckResult {
  group: string
  name: string
  passes: number
  fails: number
}

/** Where the checks come from: the run's summary, or (with the reason) only the run's totals. */
export type ChecksSource = { kind: 'summary'; checks: CheckResult[] } | { kind: 'totals'; reason: string }

/** Every check of a k6 summary-export, depth first in k6's order: the root's, then each group's. */
export function checksOfSummary(summary: Pick<K6Summary, 'root_group'>): CheckResult[] {
  const out: CheckResult[] = []
  const walk = (group: K6Summary['root_group'], path: string) => {
    for (const check of Object.values(group.checks)) out.push({ group: path, name: check.name, passes: check.passes, fails: check.fails })
    for (const child of Object.values(group.groups)) walk(child, path ? `${path}::${child.name}` : child.name)
  }
  walk(summary.root_group, '')
  return out
}

interface Case {
  classname: string
  name: string
  time?: number
  failure?: { type: string; message: string; detail?: string }
  out?: string
}

/** Attribute values stay on one line (parsers fold newlines in attributes to spaces anyway). */
const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').trim()
const observed = (v: number | null | undefined) => (v === null || v === undefined ? 'not in the summary' : String(Number.isInteger(v) ? v : Number(v.toPrecision(6))))

function runCase(run: Run): Case {
  const name = `run ${run.id}`
  const detail = [`status: ${run.status}`, `location: ${run.location}`, run.exitCode !== null ? `k6 exit code: ${run.exitCode}` : undefined, run.errorMessage ?? undefined].filter(Boolean).join('\n')
  switch (run.status) {
    case 'error':
    case 'timed_out':
    case 'cancelled': {
      const what = run.status === 'error' ? 'errored' : run.status === 'timed_out' ? 'timed out' : 'was cancelled'
      return { classname: 'run', name, time: (run.durationMs ?? 0) / 1000, failure: { type: run.status, message: oneLine(`the run ${what}${run.errorMessage ? `: ${run.errorMessage}` : ''}`), detail } }
    }
    case 'queued':
    case 'running':
      return { classname: 'run', name, failure: { type: run.status, message: `the run had not finished (still ${run.status})`, detail } }
    default:
      return { classname: 'run', name, time: (run.durationMs ?? 0) / 1000, out: detail }
  }
}

function thresholdCases(run: Run): Case[] {
  return run.thresholds.map((t) => ({
    classname: 'thresholds',
    name: `${t.metric}: ${t.expression}`,
    ...(t.ok
      ? {}
      : {
          failure: {
            type: 'threshold crossed',
            message: oneLine(`threshold crossed: ${t.metric} ${t.expression} (observed ${observed(t.actual)})`),
            detail: `metric: ${t.metric}\nthreshold: ${t.expression}\nobserved: ${observed(t.actual)}`,
          },
        }),
  }))
}

function checkCases(run: Run, source: ChecksSource): Case[] {
  if (source.kind === 'summary') {
    return source.checks.map((c) => ({
      classname: c.group ? `checks.${c.group}` : 'checks',
      name: c.name,
      ...(c.fails > 0 ? { failure: { type: 'check failed', message: oneLine(`check "${c.name}" failed ${c.fails} of ${c.passes + c.fails} times (${c.passes} passes, ${c.fails} fails)`), detail: `group: ${c.group || '(root)'}\npasses: ${c.passes}\nfails: ${c.fails}` } } : {}),
    }))
  }
  const { checksPassed: passes, checksFailed: fails } = run.metrics
  if (passes === null && fails === null) return []
  const p = passes ?? 0
  const f = fails ?? 0
  const note = `per-check results are not available (${source.reason}); these are the run's totals over all checks`
  return [
    {
      classname: 'checks',
      name: 'all checks',
      ...(f > 0 ? { failure: { type: 'check failed', message: oneLine(`${f} of ${p + f} checks failed (${p} passes, ${f} fails)`), detail: `passes: ${p}\nfails: ${f}\n${note}` } } : { out: note }),
    },
  ]
}

function render(suite: { name: string; timestamp?: string | null; time: number; properties: Record<string, string>; cases: Case[]; out?: string }): string {
  const failures = suite.cases.filter((c) => c.failure).length
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' })
  const root = doc.ele('testsuites', { name: 'stampede', tests: suite.cases.length, failures, errors: 0, time: suite.time.toFixed(3) })
  const el = root.ele('testsuite', {
    name: suite.name,
    tests: suite.cases.length,
    failures,
    errors: 0,
    skipped: 0,
    time: suite.time.toFixed(3),
    ...(suite.timestamp ? { timestamp: suite.timestamp.replace(/Z$/, '') } : {}),
  })
  const props = el.ele('properties')
  for (const [name, value] of Object.entries(suite.properties)) props.ele('property', { name, value })
  for (const c of suite.cases) {
    const tc = el.ele('testcase', { classname: c.classname, name: c.name, time: (c.time ?? 0).toFixed(3) })
    if (c.failure) tc.ele('failure', { type: c.failure.type, message: c.failure.message }).txt(c.failure.detail ?? c.failure.message)
    if (c.out) tc.ele('system-out').txt(c.out)
  }
  if (suite.out) el.ele('system-out').txt(suite.out)
  return doc.end({ prettyPrint: true, newline: '\n' }) + '\n'
}

export interface RunReportOptions {
  /** The suite's name, e.g. the script file or the saved test's name. */
  name: string
  checks: ChecksSource
  /** The API's base URL, as a property. */
  apiUrl?: string
  /** The human results block (formatResults), as the suite's system-out. */
  summaryText?: string
}

/** The JUnit XML of a finished (or abandoned) run. */
export function runJunitXml(run: Run, opts: RunReportOptions): string {
  const cases = [runCase(run), ...thresholdCases(run), ...checkCases(run, opts.checks)]
  const properties: Record<string, string> = { 'stampede.run.id': run.id, 'stampede.run.status': run.status, 'stampede.location': run.location }
  if (run.exitCode !== null) properties['k6.exit.code'] = String(run.exitCode)
  if (run.testId) properties['stampede.test.id'] = run.testId
  if (opts.apiUrl) properties['stampede.url'] = opts.apiUrl
  return render({ name: opts.name, timestamp: run.startedAt ?? run.createdAt, time: (run.durationMs ?? 0) / 1000, properties, cases, ...(opts.summaryText ? { out: opts.summaryText } : {}) })
}

/** The JUnit XML of a script the API refused before any run: one failed testcase `validation`. */
export function validationJunitXml(name: string, file: string, result: ScriptValidation): string {
  const lines = result.errors.map((f) => `${file}:${f.line}:${f.column} error ${f.code}: ${f.message}`)
  const first = result.errors[0]
  return render({
    name,
    time: 0,
    properties: {},
    cases: [{ classname: 'run', name: 'validation', failure: { type: 'script invalid', message: oneLine(`the script is invalid: ${first ? first.message : 'refused by validation'}`), detail: lines.join('\n') || 'refused by validation' } }],
  })
}
