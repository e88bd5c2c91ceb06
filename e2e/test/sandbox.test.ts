// The k6 sandbox through the whole platform (real Temporal, Postgres, S3, the real k6 in real
// bubblewrap): every script of the escape corpus is validated and started as a run; each fails
// with a clear message, nothing of the host appears in any answer, console, artifact or row, and
// the platform stays healthy. Single-machine mode is on (loopback targets allowed), as in
// `npm run dev`, so the platform's own loopback services must still be out of reach.
import { randomUUID } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { constants as zlib, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, loadApiConfig } from '@stampede/api'
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@stampede/devstack'
import { PLATFORM_LOOPBACK_HOST } from '@stampede/shared/targets'
import { repoRoot, resolveTool } from '@stampede/tools'
import { tokenClient } from '../src/clients.ts'
import { escapeCorpus, type EscapeScript } from '../src/escape-corpus.ts'
import { startStack, type Stack } from '../src/stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { runFinished } from '../src/wait.ts'

let stack: Stack
let target: Target
let postgres: EmbeddedPostgres
let corpus: EscapeScript[]
/** Strings of the host that must appear nowhere a script's output can go. */
let markers: string[]
const hostSecret = `host-only-${randomUUID()}`
const otherConsole = `other-run-console-${randomUUID()}`

beforeAll(async () => {
  target = await startTarget()
  stack = await startStack({
    runner: { K6_RUN_MEMORY_MB: '256', K6_MAX_FILE_MB: '4', K6_MAX_LOG_MB: '2' },
    api: { K6_VALIDATION_MEMORY_MB: '128', K6_VALIDATION_CPU_SECONDS: '2', K6_VALIDATION_TIMEOUT_SECONDS: '5' },
  })
  await stack.api.projects.update.mutate({ projectId: stack.projectId, maxVus: 2, maxDurationSeconds: 700 })
  const workDir = stack.env.RUNNER_WORK_DIR!
  const stackDir = path.dirname(workDir)
  const hostFile = path.join(stackDir, 'host-secret.txt')
  await writeFile(hostFile, hostSecret, { mode: 0o644 })
  // The embedded Postgres of `npm run dev`, where it listens there: on the platform's address.
  postgres = await startEmbeddedPostgres({ dataDir: path.join(stackDir, 'pg'), host: PLATFORM_LOOPBACK_HOST })
  const other = await finished((await stack.api.runs.start.mutate({ script: `export default function () { console.log('${otherConsole}') }`, location: 'us-east' })).id)
  expect(other.status).toBe('passed')
  const s3 = new URL(stack.env.S3_ENDPOINT!)
  corpus = escapeCorpus({
    temporal: stack.env.TEMPORAL_ADDRESS!,
    s3: s3.origin,
    postgres: new URL(postgres.url).host,
    hostFile,
    runnerPid: process.pid,
    otherRunId: other.id,
    target: target.url,
  })
  const root = repoRoot()
  markers = [
    'root:x:0:0',
    hostSecret,
    otherConsole,
    stackDir,
    stack.env.SECRETS_KEY!,
    stack.env.DATABASE_URL!,
    (await resolveTool('k6')).path,
    // The checkout, unless its path is a prefix of the sandbox's own /work.
    ...('/work/'.startsWith(`${root}/`) ? [] : [root]),
  ]
}, 180_000)

afterAll(async () => {
  await postgres?.stop()
  await stack?.stop()
  await target?.stop()
})

const finished = (runId: string, timeoutMs = 90_000) => runFinished(stack.api, runId, timeoutMs)

/** `own`: what the script itself brought (its text and variables): echoing that back reveals nothing. */
function assertNoHostMarkers(where: string, text: string, own = ''): void {
  for (const marker of markers) {
    if (own.includes(marker)) continue
    expect(text.includes(marker), `${where} contains ${marker}: ${text.slice(Math.max(0, text.indexOf(marker) - 200), text.indexOf(marker) + 200)}`).toBe(false)
  }
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err))

/** Like expect(text).toMatch(re), with the whole text in the failure. */
function expectMatch(what: string, text: string, re: RegExp): void {
  if (!re.test(text)) throw new Error(`${what} does not match ${re}: ${text.slice(0, 1500)}`)
}

/** Everything a run left: its row, console, summary, metrics and report. */
async function runTraces(runId: string): Promise<Record<string, string>> {
  const run = await stack.api.runs.byId.query({ id: runId })
  const traces: Record<string, string> = { row: JSON.stringify(run) }
  for (const name of ['log', 'summary', 'metrics', 'report'] as const) {
    if (!(run.artifacts as Record<string, unknown>)[name]) continue
    const { url } = await stack.api.runs.artifactUrl.query({ runId, name })
    const bytes = Buffer.from(await (await fetch(url)).arrayBuffer())
    // A metrics stream cut at the file-size limit is a truncated gzip: read what is there.
    traces[name] = (name === 'metrics' ? gunzipSync(bytes, { finishFlush: zlib.Z_SYNC_FLUSH }) : bytes).toString('utf8')
  }
  return traces
}

describe('validation as a bounded service', () => {
  it('queues k6 processes up to VALIDATION_CONCURRENCY, refuses long waits and limits each caller', async () => {
    const server = await createServer(
      loadApiConfig({ ...stack.env, API_PORT: '0', K6_VALIDATION_CPU_SECONDS: '2', K6_VALIDATION_TIMEOUT_SECONDS: '5', VALIDATION_CONCURRENCY: '1', VALIDATION_QUEUE_SECONDS: '1', VALIDATION_RATE_LIMIT: '3' }),
    )
    try {
      const api = tokenClient(await server.start(), stack.token)
      const slow = `for (;;) {}\nexport default function () {}`
      // One k6 at a time: the first holds it for its CPU limit (2 s); the second waits 1 s and is refused.
      const outcomes = await Promise.all([slow, slow].map((script) => api.scripts.validate.mutate({ script }).then((r) => (r.ok ? 'ok' : r.errors[0]!.message), errorMessage)))
      expect(outcomes[0]).toMatch(/CPU time limit of 2 s|within 5 s \(K6_VALIDATION_TIMEOUT_SECONDS\)/)
      expect(outcomes[1]).toMatch(/k6 is busy validating other scripts \(1 at a time, VALIDATION_CONCURRENCY\) and this one waited 1 s; retry in a few seconds/)
      // The caller's third validation a minute is its last.
      const third = await api.scripts.validate.mutate({ script: 'export default function () {}' }).then(() => 'ok', errorMessage)
      expect(third).toBe('ok')
      await expect(api.scripts.validate.mutate({ script: 'export default function () {}' })).rejects.toThrow(/limited to 3 per minute per caller \(VALIDATION_RATE_LIMIT\)/)
    } finally {
      await server.stop()
    }
  }, 60_000)
})

describe('the escape corpus', () => {
  it('has at least 30 scripts', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30)
  })

  it('refuses or contains every script, with a clear message and nothing of the host anywhere', async () => {
    const failures: string[] = []
    for (const entry of corpus) {
      try {
        await checkEntry(entry)
      } catch (err) {
        failures.push(`${entry.name}: ${errorMessage(err)}`)
      }
    }
    expect(failures).toEqual([])
  }, 900_000)

  it('stays healthy and runs an ordinary script afterwards', async () => {
    const health = await fetch(`${stack.apiUrl}/healthz`)
    expect(health.status).toBe(200)
    target.reset()
    const run = await finished((await stack.api.runs.start.mutate({ script: `import http from 'k6/http'\nexport const options = { iterations: 3 }\nexport default function () { http.get('${target.url}/') }`, location: 'us-east' })).id)
    expect(run.status).toBe('passed')
    expect(target.count).toBe(3)
  })
})

async function checkEntry(entry: EscapeScript): Promise<void> {
  const variables = Object.entries(entry.env ?? {}).map(([name, value]) => ({ name, value }))
  const secrets = Object.entries(entry.secrets ?? {}).map(([name, value]) => ({ name, value }))
  // The validation alone (no variables): whatever it says holds nothing of the host.
  const own = entry.script + JSON.stringify(entry.env ?? {})
  const validated = await stack.api.scripts.validate.mutate({ script: entry.script, projectId: stack.projectId })
  assertNoHostMarkers('scripts.validate', JSON.stringify(validated), own)

  const name = `escape: ${entry.name}`
  if (entry.refused) {
    expect(validated.ok, 'scripts.validate refuses it').toBe(false)
    // Saving and starting it validate with its variables, and refuse it naming the problem.
    const saving = await stack.api.tests.create.mutate({ name, script: entry.script, variables, secrets }).then(
      () => 'saved',
      (err: unknown) => errorMessage(err),
    )
    expectMatch('tests.create', saving, entry.refused)
    assertNoHostMarkers('tests.create', saving, own)
    const starting = await stack.api.runs.start.mutate({ script: entry.script, location: 'us-east', env: entry.env ?? {} }).then(
      (r) => `started ${r.id}`,
      (err: unknown) => errorMessage(err),
    )
    expectMatch('runs.start', starting, entry.refused)
    assertNoHostMarkers('runs.start', starting, own)
    return
  }
  const test = await stack.api.tests.create.mutate({ name, script: entry.script, variables, secrets })
  const run = await finished((await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east' })).id, 180_000)
  const traces = await runTraces(run.id)
  for (const [where, text] of Object.entries(traces)) assertNoHostMarkers(where, text, own)
  const expected = entry.run!
  expect(run.status, `status (error: ${run.errorMessage})`).toBe(expected.status)
  if (expected.message) expectMatch('the run\'s error', run.errorMessage ?? '', expected.message)
  if (expected.console) expectMatch('the run\'s console', traces.log ?? '', expected.console)
  for (const name of expected.artifacts ?? []) expect(Object.keys(run.artifacts), `the run's stored artifacts include ${name}`).toContain(name)
}
