// `stampede run --junit`: the JUnit XML of passing, failing and broken runs, parsed back with an
// independent XML parser (fast-xml-parser) to prove it is well-formed and says what failed; then
// the CLI end to end against a stand-in API (tRPC over HTTP, the console WebSocket, the signed
// summary link): the file is written whatever the outcome, and a write failure is reported.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { runCli } from './test-cli.ts'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { API_COMPAT, type Run } from '@stampede/sdk'
import { checksOfSummary, runJunitXml, validationJunitXml } from './junit.ts'

const RUN_ID = '00000000-0000-4000-8000-0000000000aa'

function makeRun(more: Partial<Run> = {}): Run {
  return {
    id: RUN_ID,
    projectId: '00000000-0000-4000-8000-0000000000bb',
    testId: null,
    location: 'us-east',
    trigger: 'api',
    jobId: null,
    status: 'passed',
    waitingForRunner: false,
    createdAt: '2026-12-01T10:00:00.000Z',
    startedAt: '2026-12-01T10:00:01.000Z',
    finishedAt: '2026-12-01T10:00:31.000Z',
    durationMs: 30_000,
    timeoutSeconds: 3600,
    rawSamples: false,
    exitCode: 0,
    thresholdsPassed: true,
    thresholds: [{ metric: 'http_req_duration', expression: 'p(95)<500', ok: true, actual: 123.4 }],
    metrics: {
      httpReqs: 100,
      httpReqFailedRate: 0,
      httpReqRate: 3.3,
      iterations: 100,
      vusMax: 1,
      httpReqDuration: { avg: 100, min: 50, med: 100, max: 200, p90: 150, p95: 160, p99: 190 },
      checksPassed: 100,
      checksFailed: 0,
      dataSent: 1000,
      dataReceived: 2000,
    },
    artifacts: {},
    artifactsPending: false,
    consoleLines: 0,
    errorMessage: null,
    metricsNote: null,
    ...more,
  } as Run
}

interface Case {
  '@_classname': string
  '@_name': string
  failure?: { '@_message': string; '@_type': string; '#text'?: string }
  'system-out'?: string
}
interface Parsed {
  testsuites: { '@_tests': string; '@_failures': string; testsuite: { '@_name': string; '@_tests': string; '@_failures': string; testcase: Case[]; properties: { property: { '@_name': string; '@_value': string }[] } } }
}

/** Validates, then parses the XML; testcase is always an array. */
function parse(xml: string): Parsed {
  expect(XMLValidator.validate(xml)).toBe(true)
  return new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'testcase' || name === 'property', parseTagValue: false, parseAttributeValue: false }).parse(xml) as Parsed
}
const cases = (xml: string) => parse(xml).testsuites.testsuite.testcase
const failed = (xml: string) => cases(xml).filter((c) => c.failure)

const SUMMARY_CHECKS = {
  root_group: {
    name: '',
    path: '',
    groups: {
      login: {
        name: 'login',
        path: '::login',
        groups: { nested: { name: 'nested', path: '::login::nested', groups: {}, checks: { 'has token': { name: 'has token', path: '::login::nested::has token', passes: 9, fails: 1 } } } },
        checks: { 'status 200': { name: 'status 200', path: '::login::status 200', passes: 10, fails: 0 } },
      },
    },
    checks: { 'body ok': { name: 'body ok', path: '::body ok', passes: 7, fails: 3 } },
  },
}

describe('runJunitXml', () => {
  it('a passing run: every case passes, one for the run, each threshold and each check', () => {
    const xml = runJunitXml(makeRun(), { name: 'load.js', checks: { kind: 'summary', checks: [{ group: '', name: 'status 200', passes: 100, fails: 0 }] }, apiUrl: 'http://api', summaryText: 'Run … PASSED' })
    const doc = parse(xml)
    expect(doc.testsuites.testsuite['@_name']).toBe('load.js')
    expect(doc.testsuites.testsuite['@_tests']).toBe('3')
    expect(doc.testsuites.testsuite['@_failures']).toBe('0')
    expect(cases(xml).map((c) => [c['@_classname'], c['@_name']])).toEqual([
      ['run', `run ${RUN_ID}`],
      ['thresholds', 'http_req_duration: p(95)<500'],
      ['checks', 'status 200'],
    ])
    expect(failed(xml)).toEqual([])
    expect(doc.testsuites.testsuite.properties.property).toContainEqual({ '@_name': 'stampede.run.id', '@_value': RUN_ID })
  })

  it('crossed thresholds: a failure each, with the metric, the expression and the observed value', () => {
    const run = makeRun({
      status: 'failed',
      exitCode: 99,
      thresholdsPassed: false,
      thresholds: [
        { metric: 'http_req_duration', expression: 'p(95)<500', ok: false, actual: 812.345678 },
        { metric: 'http_req_failed', expression: 'rate<0.01', ok: true, actual: 0 },
        { metric: 'checks', expression: 'rate>0.99', ok: false, actual: null },
      ],
    })
    const xml = runJunitXml(run, { name: 'load.js', checks: { kind: 'totals', reason: 'test' } })
    expect(parse(xml).testsuites['@_failures']).toBe('2')
    expect(failed(xml).map((c) => [c['@_name'], c.failure!['@_message']])).toEqual([
      ['http_req_duration: p(95)<500', 'threshold crossed: http_req_duration p(95)<500 (observed 812.346)'],
      ['checks: rate>0.99', 'threshold crossed: checks rate>0.99 (observed not in the summary)'],
    ])
    // The run itself ended normally: its thresholds are what failed.
    expect(cases(xml)[0]!.failure).toBeUndefined()
  })

  it('failed checks from the summary: one case per check, named by group, failing with the counts', () => {
    const checks = checksOfSummary(SUMMARY_CHECKS)
    expect(checks).toEqual([
      { group: '', name: 'body ok', passes: 7, fails: 3 },
      { group: 'login', name: 'status 200', passes: 10, fails: 0 },
      { group: 'login::nested', name: 'has token', passes: 9, fails: 1 },
    ])
    const xml = runJunitXml(makeRun({ metrics: { ...makeRun().metrics, checksPassed: 26, checksFailed: 4 } }), { name: 'load.js', checks: { kind: 'summary', checks } })
    expect(failed(xml).map((c) => [c['@_classname'], c['@_name'], c.failure!['@_message']])).toEqual([
      ['checks', 'body ok', 'check "body ok" failed 3 of 10 times (7 passes, 3 fails)'],
      ['checks.login::nested', 'has token', 'check "has token" failed 1 of 10 times (9 passes, 1 fails)'],
    ])
    expect(cases(xml).find((c) => c['@_name'] === 'status 200')).toMatchObject({ '@_classname': 'checks.login' })
  })

  it('without the summary: one case from the run\'s totals, saying why', () => {
    const run = makeRun({ metrics: { ...makeRun().metrics, checksPassed: 90, checksFailed: 10 } })
    const xml = runJunitXml(run, { name: 'load.js', checks: { kind: 'totals', reason: 'the run has no k6 summary' } })
    const [c] = failed(xml)
    expect(c).toMatchObject({ '@_classname': 'checks', '@_name': 'all checks', failure: { '@_message': '10 of 100 checks failed (90 passes, 10 fails)' } })
    expect(c!.failure!['#text']).toContain('per-check results are not available (the run has no k6 summary)')
    // No checks at all: no case.
    const none = runJunitXml(makeRun({ metrics: { ...makeRun().metrics, checksPassed: null, checksFailed: null } }), { name: 'load.js', checks: { kind: 'totals', reason: 'x' } })
    expect(cases(none).map((x) => x['@_classname'])).toEqual(['run', 'thresholds'])
  })

  it('an errored, timed-out or cancelled run: the run case fails with the error message', () => {
    for (const [status, word] of [['error', 'errored'], ['timed_out', 'timed out'], ['cancelled', 'was cancelled']] as const) {
      const run = makeRun({ status, exitCode: status === 'error' ? 107 : null, thresholds: [], errorMessage: 'k6 exited 107: script exception\nat default (file:///load.js:3:9)' })
      const xml = runJunitXml(run, { name: 'load.js', checks: { kind: 'totals', reason: 'x' } })
      const [c] = failed(xml)
      expect(c).toMatchObject({ '@_classname': 'run', failure: { '@_type': status, '@_message': `the run ${word}: k6 exited 107: script exception at default (file:///load.js:3:9)` } })
      // The detail keeps the lines.
      expect(c!.failure!['#text']).toContain('k6 exited 107: script exception\nat default (file:///load.js:3:9)')
    }
  })

  it('escapes hostile names: markup, quotes, control characters and ]]>, and stays well-formed', () => {
    const hostile = 'a<b>&c"d\'e ]]> <![CDATA[x]]> \u0000\u0001\u001b[31m\u007f \uFFFE end'
    const run = makeRun({
      status: 'error',
      errorMessage: hostile,
      thresholds: [{ metric: `m${hostile}`, expression: 'p(95)<1 && ]]>', ok: false, actual: 2 }],
    })
    const xml = runJunitXml(run, { name: hostile, checks: { kind: 'summary', checks: [{ group: hostile, name: hostile, passes: 1, fails: 1 }] }, summaryText: hostile })
    // No character XML 1.0 forbids (C0 controls but tab, newline and carriage return).
    expect([...xml].filter((ch) => ch.charCodeAt(0) < 0x20 && !'\t\n\r'.includes(ch))).toEqual([])
    expect(xml).not.toContain(']]>')
    const doc = parse(xml)
    // What the parser reads back: the text as written, the characters XML cannot hold replaced.
    const readBack = 'a<b>&c"d\'e ]]> <![CDATA[x]]> \uFFFD\uFFFD\uFFFD[31m\u007f \uFFFD end'
    expect(doc.testsuites.testsuite['@_name']).toBe(readBack)
    const check = cases(xml).find((c) => c['@_classname'].startsWith('checks'))!
    expect(check['@_name']).toBe(readBack)
    expect(check['@_classname']).toBe(`checks.${readBack}`)
    expect(cases(xml).find((c) => c['@_classname'] === 'thresholds')!['@_name']).toBe(`m${readBack}: p(95)<1 && ]]>`)
    expect(failed(xml)).toHaveLength(3)
  })

  it('a script validation refused: one failed case with the findings', () => {
    const xml = validationJunitXml('load.js', 'load.js', { ok: false, errors: [{ line: 3, column: 9, code: 'syntax', message: 'Unexpected token' }], warnings: [], requirements: null } as never)
    expect(failed(xml)).toEqual([expect.objectContaining({ '@_name': 'validation', failure: expect.objectContaining({ '@_message': 'the script is invalid: Unexpected token', '#text': 'load.js:3:9 error syntax: Unexpected token' }) })])
  })
})

// ---- The CLI against a stand-in API --------------------------------------------------------

let server: http.Server
let url: string
let dir: string
/** The run runs.byId answers once the console has ended. */
let finalRun: Run
/** What meta.version answers (null: 404, an API without it). */
let meta: { version: string; apiCompat: number } | null
let summaryBody: unknown
let calls: string[] = []
let onById: (() => Promise<void>) | undefined
let validation: unknown

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-junit-'))
  await writeFile(path.join(dir, 'load.js'), 'export default function () {}\n')
  const answers: Record<string, () => unknown> = {
    'meta.version': () => meta,
    'scripts.validate': () => validation,
    'runs.start': () => ({ ...finalRun, status: 'queued', thresholds: [], artifacts: {} }),
    'runs.byId': () => finalRun,
    'runs.artifactUrl': () => ({ name: 'summary', file: 'summary.json', url: `${url}/artifacts/${RUN_ID}/summary?sig=x`, expiresAt: new Date().toISOString() }),
    'locations.list': () => [],
  }
  server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      void (async () => {
        const u = new URL(req.url ?? '/', 'http://x')
        res.setHeader('content-type', 'application/json')
        if (u.pathname.startsWith('/artifacts/')) return res.end(JSON.stringify(summaryBody))
        const procedure = u.pathname.replace(/^\/trpc\//, '')
        calls.push(procedure)
        if (procedure === 'runs.byId') await onById?.()
        const answer = answers[procedure]
        const data = answer?.()
        if (!answer || data === null) {
          res.statusCode = 404
          return res.end(JSON.stringify({ error: { message: `no procedure ${procedure}`, code: -32004, data: { code: 'NOT_FOUND', httpStatus: 404 } } }))
        }
        res.end(JSON.stringify({ result: { data } }))
      })()
    })
  })
  // The console: ends at once with the final run's status.
  const wss = new WebSocketServer({ server })
  wss.on('connection', (socket) => {
    socket.send(JSON.stringify({ type: 'end', status: finalRun.status, lastSeq: 0 }))
    socket.close(1000)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

beforeEach(() => {
  calls = []
  onById = undefined
  meta = { version: '0.1.0', apiCompat: API_COMPAT }
  finalRun = makeRun({ artifacts: { summary: { key: `runs/${RUN_ID}/summary.json`, bytes: 1, sha256: 'x' } } })
  summaryBody = { ...SUMMARY_CHECKS, metrics: {} }
  validation = { ok: true, errors: [], warnings: [], requirements: null }
})

const cli = (...argv: string[]) => runCli(url, dir, argv)

describe('stampede run --junit', () => {
  it('writes the report for a run that crossed thresholds (exit 99), with per-check results from the summary', async () => {
    finalRun = { ...finalRun, status: 'failed', exitCode: 99, thresholdsPassed: false, thresholds: [{ metric: 'http_req_duration', expression: 'p(95)<500', ok: false, actual: 900 }] }
    const { code, stderr } = await cli('run', 'load.js', '--location', 'us-east', '--junit', 'out/../report.xml')
    expect(stderr).toContain('wrote the JUnit report to out/../report.xml')
    expect(code).toBe(99)
    const xml = await readFile(path.join(dir, 'report.xml'), 'utf8')
    expect(failed(xml).map((c) => `${c['@_classname']} ${c['@_name']}`)).toEqual(['thresholds http_req_duration: p(95)<500', 'checks body ok', 'checks.login::nested has token'])
    expect(calls).toContain('runs.artifactUrl')
  }, 20_000)

  it('writes it for an errored run too, and keeps --json\'s one document on stdout', async () => {
    finalRun = { ...finalRun, status: 'error', exitCode: 107, artifacts: {}, errorMessage: 'script exception' }
    const { code, stdout } = await cli('run', 'load.js', '--location', 'us-east', '--junit', 'errored.xml', '--json')
    expect(code).toBe(7)
    expect(JSON.parse(stdout)).toMatchObject({ id: RUN_ID, status: 'error' })
    const xml = await readFile(path.join(dir, 'errored.xml'), 'utf8')
    expect(failed(xml)[0]).toMatchObject({ '@_classname': 'run', failure: { '@_message': 'the run errored: script exception' } })
    // No summary: the checks from the run's totals.
    expect(cases(xml).find((c) => c['@_classname'] === 'checks')).toMatchObject({ '@_name': 'all checks' })
  }, 20_000)

  it('writes one failed validation case when the API refuses the script (exit 7), starting nothing', async () => {
    validation = { ok: false, errors: [{ line: 1, column: 5, code: 'syntax', message: 'Unexpected token' }], warnings: [], requirements: null }
    const { code } = await cli('run', 'load.js', '--location', 'us-east', '--junit', 'invalid.xml')
    expect(code).toBe(7)
    expect(failed(await readFile(path.join(dir, 'invalid.xml'), 'utf8'))).toEqual([
      expect.objectContaining({ '@_name': 'validation', failure: expect.objectContaining({ '#text': 'load.js:1:5 error syntax: Unexpected token' }) }),
    ])
    expect(calls).not.toContain('runs.start')
  })

  it('refuses a folder that does not exist before starting anything, and --junit with --detach', async () => {
    const missing = await cli('run', 'load.js', '--location', 'us-east', '--junit', 'no/such/folder/r.xml')
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('--junit no/such/folder/r.xml: the folder')
    expect(await cli('run', 'load.js', '--location', 'us-east', '--junit', 'r.xml', '--detach')).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot be combined with --detach') })
    expect(calls).toEqual([])
  })

  it('says so when the report cannot be written: exit 2 for a passed run, the run\'s code otherwise', async () => {
    const sub = await mkdtemp(path.join(dir, 'gone-'))
    // The folder disappears while the run goes on.
    onById = () => rm(sub, { recursive: true, force: true })
    const passed = await cli('run', 'load.js', '--location', 'us-east', '--junit', path.join(sub, 'r.xml'))
    expect(passed.code).toBe(2)
    expect(passed.stderr).toMatch(/cannot write the JUnit report to .*r\.xml \(ENOENT\)/)
    const sub2 = await mkdtemp(path.join(dir, 'gone-'))
    onById = () => rm(sub2, { recursive: true, force: true })
    finalRun = { ...finalRun, status: 'failed', exitCode: 99 }
    const crossed = await cli('run', 'load.js', '--location', 'us-east', '--junit', path.join(sub2, 'r.xml'))
    expect(crossed.code).toBe(99)
    expect(crossed.stderr).toContain('the exit code is the run\'s')
  }, 20_000)
})

describe('the CLI and the API\'s version', () => {
  it('--version prints the CLI\'s version without calling the API', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    expect((await cli('--version')).stdout).toBe(`stampede ${pkg.version} (API compatibility level ${API_COMPAT})\n`)
    expect(JSON.parse((await cli('--version', '--json')).stdout)).toEqual({ version: pkg.version, apiCompat: API_COMPAT })
    expect(calls).toEqual([])
  })

  it('warns once on stderr when the API is newer by a minor version', async () => {
    meta = { version: '0.2.0', apiCompat: API_COMPAT }
    const { code, stderr } = await cli('locations')
    expect(code).toBe(0)
    expect(stderr.match(/stampede: warning: the Stampede API at .* is version 0\.2\.0, newer than the stampede CLI 0\.1\.0/g)).toHaveLength(1)
    expect(calls).toEqual(['meta.version', 'locations.list'])
  })

  it('refuses an API of another compatibility level with exit 1, naming both versions', async () => {
    meta = { version: '2.0.0', apiCompat: API_COMPAT + 1 }
    const { code, stderr, stdout } = await cli('locations', '--json')
    expect(code).toBe(1)
    expect(stderr).toContain(`the stampede CLI 0.1.0 cannot work with the Stampede API at ${url}: the API is version 2.0.0 (API compatibility level ${API_COMPAT + 1})`)
    expect(stderr).toContain('Upgrade the stampede CLI')
    expect(stderr).toContain('npm install @stampede/cli@latest')
    expect(JSON.parse(stdout)).toMatchObject({ error: { type: 'StampedeVersionError', exitCode: 1 } })
    expect(calls).toEqual(['meta.version'])
  })
})
