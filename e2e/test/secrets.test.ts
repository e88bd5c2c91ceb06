// Test variables and secrets end to end: k6 really gets them as __ENV, and a secret printed by
// the script, or put into a check name, a group name, a tag or a URL, never appears in the relayed
// console, the archived log, summary, HTML report (its embedded data decoded too) or metrics, the
// database (every row of every table, and a pg_dump) or the Temporal history of the run's workflow.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appRouter, createCallerFactory, createInnerContext } from '@stampede/api'
import { DEFAULT_TEST_ADMIN_URL } from '@stampede/db/testing'
import type { ConsoleMessage } from '@stampede/shared'
import { followRun } from '../src/console-client.ts'
import { ADMIN, startStack, type Stack } from '../src/stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { runFinished } from '../src/wait.ts'
import { historyText } from '../src/history.ts'

const PG_DUMP = '/usr/lib/postgresql/15/bin/pg_dump'
const SECRET = `tok-${crypto.randomUUID()}`
const GREETING = 'hello-from-a-plain-variable'

let stack: Stack
let target: Target

beforeAll(async () => {
  target = await startTarget()
  // On the machine's PostgreSQL (15), whose pg_dump this machine has: pg_dump refuses a newer
  // server, such as the suite's embedded PostgreSQL 18.
  stack = await startStack({ locations: 'us-east:US East:Virginia', databaseAdminUrl: DEFAULT_TEST_ADMIN_URL })
})
afterAll(async () => {
  await stack?.stop()
  await target?.stop()
})

const finished = (runId: string) => runFinished(stack.api, runId)

const lineTexts = (messages: ConsoleMessage[]) => messages.flatMap((m) => (m.type === 'lines' ? m.lines.map((l) => l.text) : []))

/** The HTML report's embedded data: k6's dashboard events, gzipped and base64-encoded in a script element. */
function reportData(html: string): string {
  const tag = '<script id="data" type="application/json; charset=utf-8; gzip; base64">'
  const start = html.indexOf(tag)
  expect(start, 'the report has its data element').toBeGreaterThan(0)
  const base64 = html.slice(start + tag.length, html.indexOf('</script>', start)).trim()
  return gunzipSync(Buffer.from(base64, 'base64')).toString('utf8')
}

/** Each non-empty line of an NDJSON text, parsed (throws on a line that is not JSON). */
const ndjson = (text: string): unknown[] => text.split('\n').flatMap((line) => (line === '' ? [] : [JSON.parse(line) as unknown]))

async function runHistory(runId: string): Promise<string> {
  const { events, text } = await historyText(stack.server.services.temporal, runId)
  expect(events).toBeGreaterThan(0)
  // Payloads were decoded: the workflow input and k6's outcome are readable in the text.
  expect(text).toContain('"locationId":"us-east"')
  expect(text).toContain('"consoleLines"')
  return text
}

describe('variables and secrets', () => {
  it('gives k6 both, shows the variable and masks the secret everywhere it could leak', async () => {
    target.reset()
    const script = `
      import http from 'k6/http'
      import { check, group, sleep } from 'k6'
      export const options = { iterations: 1 }
      export default function () {
        console.log('greeting is ' + __ENV.GREETING)
        console.log('token is ' + __ENV.API_TOKEN)
        console.error('still the token: ' + __ENV.API_TOKEN)
        group('as ' + __ENV.API_TOKEN, () => {
          const res = http.get('${target.url}/?token=' + __ENV.API_TOKEN, {
            headers: { Authorization: 'Bearer ' + __ENV.API_TOKEN, 'X-Greeting': __ENV.GREETING },
            tags: { tenant: 'tenant ' + __ENV.API_TOKEN },
          })
          check(res, { ['ok for ' + __ENV.API_TOKEN]: (r) => r.status === 200 })
        })
        // k6 writes the HTML report only when the run lasts at least two dashboard periods (1 s each).
        sleep(3)
      }`
    const test = await stack.api.tests.create.mutate({
      name: 'with secrets',
      script,
      variables: [{ name: 'GREETING', value: GREETING }],
      secrets: [{ name: 'API_TOKEN', value: SECRET }],
    })
    expect(test.variables).toEqual([{ name: 'GREETING', value: GREETING }])
    expect(test.secrets.map((s) => s.name)).toEqual(['API_TOKEN'])
    expect(JSON.stringify(test)).not.toContain(SECRET)
    const byId = await stack.api.tests.byId.query({ id: test.id })
    expect(JSON.stringify(byId)).not.toContain(SECRET)
    expect(JSON.stringify(await stack.api.tests.list.query())).not.toContain(SECRET)

    // With raw samples, so that k6's per-sample stream is checked too.
    const started = await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east', rawSamples: true })
    // With the live metric frames too: their tags (check, group, request name) carry the secret.
    const viewer = followRun(stack, started.id, { metrics: true })
    await viewer.waitFor((e) => e.type === 'end', 90_000)
    const run = await finished(started.id)
    expect(run.status).toBe('passed')
    expect(JSON.stringify(viewer.events.filter((e) => e.type === 'metrics'))).toContain('ok for [secret]')

    // k6 really had both: the target got the real secret and the variable.
    expect(target.headers).toHaveLength(1)
    expect(target.headers[0]!.authorization).toBe(`Bearer ${SECRET}`)
    expect(target.headers[0]!['x-greeting']).toBe(GREETING)

    // The live console shows the variable and [secret] in place of the secret.
    const live = lineTexts(viewer.events)
    expect(live.some((t) => t.includes(`greeting is ${GREETING}`))).toBe(true)
    expect(live.some((t) => t.includes('token is [secret]'))).toBe(true)
    expect(live.some((t) => t.includes('still the token: [secret]'))).toBe(true)
    // Nor anything else the server sent (the wire: every message on every connection).
    expect(JSON.stringify(viewer.wire)).not.toContain(SECRET)

    // Nor does any archived artifact (console.log above all) carry it.
    const link = await stack.api.runs.artifactUrl.query({ runId: run.id, name: 'log' })
    const log = await (await fetch(link.url)).text()
    expect(log).toContain('token is [secret]')
    expect(log).not.toContain(SECRET)
    const download = async (name: 'summary' | 'report' | 'metrics' | 'samples') => {
      expect(run.artifacts[name], `the run stored its ${name}`).toBeTruthy()
      const { url } = await stack.api.runs.artifactUrl.query({ runId: run.id, name })
      const res = await fetch(url)
      expect(res.status).toBe(200)
      return Buffer.from(await res.arrayBuffer())
    }
    // The script put the secret into a check name, a group name, a tag and a URL: where k6 wrote
    // them, [secret] stands instead.
    const summary = (await download('summary')).toString('utf8')
    expect(summary).toContain('ok for [secret]')
    expect(summary).not.toContain(SECRET)
    const html = (await download('report')).toString('utf8')
    expect(html).not.toContain(SECRET)
    const data = reportData(html)
    expect(data).not.toContain(SECRET)
    expect(ndjson(data).length).toBeGreaterThan(3)
    expect(data).toContain('group:::as [secret]')
    const samples = gunzipSync(await download('samples')).toString('utf8')
    expect(samples).not.toContain(SECRET)
    expect(ndjson(samples).length).toBeGreaterThan(10)
    expect(samples).toContain(`"url":"${target.url}/?token=[secret]"`)
    expect(samples).toContain('"tenant":"tenant [secret]"')
    expect(samples).toContain('"check":"ok for [secret]"')
    // The per-second frames keep the check, the group and the request's name (its URL).
    const frames = gunzipSync(await download('metrics')).toString('utf8')
    expect(frames).not.toContain(SECRET)
    expect(ndjson(frames).length).toBeGreaterThan(2)
    expect(frames).toContain('"check":"ok for [secret]"')
    expect(frames).toContain(`"name":"${target.url}/?token=[secret]"`)
    expect(JSON.stringify(await stack.api.runs.byId.query({ id: run.id }))).not.toContain(SECRET)
    expect(await runHistory(run.id)).not.toContain(SECRET)

    // A script exception quoting the secret: the error message stored on the run is masked too.
    await stack.api.tests.update.mutate({
      id: test.id,
      script: `export function setup() { throw new Error('login failed for ' + __ENV.API_TOKEN) }\nexport default function () {}`,
    })
    const broken = await finished((await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east' })).id)
    expect(broken.status).toBe('error')
    expect(broken.errorMessage).toContain('login failed for [secret]')
    expect(await runHistory(broken.id)).not.toContain(SECRET)

    // The database holds no plaintext anywhere: every row of every table, and a full dump.
    const db = new pg.Client({ connectionString: stack.env.DATABASE_URL })
    await db.connect()
    try {
      const tables = await db.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
      expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['tests', 'runs', 'test_variables']))
      for (const { table_name } of tables.rows) {
        const hits = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${table_name}" t WHERE strpos(t::text, $1) > 0`, [SECRET])
        expect(Number(hits.rows[0]!.n), `rows of ${table_name} containing the secret`).toBe(0)
      }
      const stored = await db.query<{ value: string | null; ciphertext: string | null }>(`SELECT value, ciphertext FROM test_variables WHERE name = 'API_TOKEN'`)
      expect(stored.rows).toHaveLength(1)
      expect(stored.rows[0]!.value).toBeNull()
      expect(stored.rows[0]!.ciphertext).toMatch(/^v1:/)
    } finally {
      await db.end()
    }
    if (existsSync(PG_DUMP)) {
      const { stdout } = await promisify(execFile)(PG_DUMP, ['--data-only', stack.env.DATABASE_URL!], { maxBuffer: 64 * 1024 * 1024 })
      expect(stdout).toContain('API_TOKEN')
      expect(stdout).not.toContain(SECRET)
    }
  })

  it('keeps API tokens, session cookies and passwords only as hashes, and webhook secrets encrypted', async () => {
    const test = await stack.api.tests.create.mutate({ name: 'hooked', script: 'export default function () {}' })
    const job = await stack.api.jobs.create.mutate({ name: 'hooked', testIds: [test.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false, webhookUrl: 'http://127.0.0.1:9/hook' })
    const credentials = { token: stack.token, password: ADMIN.password, cookie: stack.admin.cookie()!.split('=')[1]!, webhookSecret: job.webhookSecret! }
    const db = new pg.Client({ connectionString: stack.env.DATABASE_URL })
    await db.connect()
    try {
      const tables = await db.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
      for (const [what, value] of Object.entries(credentials)) {
        for (const { table_name } of tables.rows) {
          const hits = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${table_name}" t WHERE strpos(t::text, $1) > 0`, [value])
          expect(Number(hits.rows[0]!.n), `rows of ${table_name} containing the ${what}`).toBe(0)
        }
      }
    } finally {
      await db.end()
    }
    const audit = JSON.stringify(await stack.api.audit.list.query({ limit: 200 }))
    for (const value of Object.values(credentials)) expect(audit).not.toContain(value)
  })

  it('updates variables and secrets, refuses bad names naming the field, and passes a run env to k6', async () => {
    const test = await stack.api.tests.create.mutate({ name: 'vars', script: 'export default function () {}', secrets: [{ name: 'A_SECRET', value: 'first-value' }] })
    const updated = await stack.api.tests.update.mutate({ id: test.id, variables: [{ name: 'ONE', value: '1' }], secrets: [{ name: 'B_SECRET', value: 'second-value' }] })
    expect(updated.variables).toEqual([{ name: 'ONE', value: '1' }])
    expect(updated.secrets.map((s) => s.name)).toEqual(['A_SECRET', 'B_SECRET'])
    const removed = await stack.api.tests.update.mutate({ id: test.id, removeSecrets: ['A_SECRET'], variables: [] })
    expect(removed.variables).toEqual([])
    expect(removed.secrets.map((s) => s.name)).toEqual(['B_SECRET'])

    await expect(stack.api.tests.create.mutate({ name: 'x', script: 'export default function () {}', variables: [{ name: 'K6_OUT', value: 'json=x' }] })).rejects.toThrow(/variables\.0\.name: must not start with K6_/)
    await expect(stack.api.tests.create.mutate({ name: 'x', script: 'export default function () {}', secrets: [{ name: 'PATH', value: 'x' }] })).rejects.toThrow(/secrets\.0\.name: must not be PATH, HOME, TMPDIR/)
    await expect(stack.api.tests.create.mutate({ name: 'x', script: 'export default function () {}', variables: [{ name: '1BAD', value: 'x' }] })).rejects.toThrow(/variables\.0\.name: must be an environment variable name/)
    await expect(stack.api.tests.update.mutate({ id: test.id, variables: [{ name: 'B_SECRET', value: 'x' }] })).rejects.toThrow(/variables\.0\.name: B_SECRET is a secret of this test/)
    await expect(stack.api.tests.update.mutate({ id: test.id, removeSecrets: ['NOPE'] })).rejects.toThrow(/removeSecrets\.0: NOPE is not a secret of this test/)

    // An API without SECRETS_KEY refuses secrets, saying what to set; plain variables still work.
    const { secretsKey: _unset, ...noKey } = stack.server.services.config
    const keyless = createCallerFactory(appRouter)(
      createInnerContext({ ...stack.server.services, config: noKey }, { request: { address: '127.0.0.1', authorization: `Bearer ${stack.token}` } }),
    )
    await expect(keyless.tests.create({ name: 'x', script: 'export default function () {}', secrets: [{ name: 'S', value: 'v' }] })).rejects.toThrow(/secrets: .*set SECRETS_KEY/)
    expect((await keyless.tests.create({ name: 'x', script: 'export default function () {}', variables: [{ name: 'V', value: 'v' }] })).variables).toEqual([{ name: 'V', value: 'v' }])

    target.reset()
    const script = `import http from 'k6/http'\nexport const options = { iterations: 1 }\nexport default function () { http.get('${target.url}/', { headers: { 'X-Greeting': __ENV.GREETING } }) }`
    const run = await finished((await stack.api.runs.start.mutate({ script, location: 'us-east', env: { GREETING: 'ad hoc' } })).id)
    expect(run.status).toBe('passed')
    expect(target.headers[0]!['x-greeting']).toBe('ad hoc')
  })

  it('validates a script with its test variables: init code that needs them saves and runs, without them it is refused', async () => {
    const script = `
      import http from 'k6/http'
      if (!__ENV.BASE_URL) throw new Error('BASE_URL is not set')
      if (!__ENV.API_TOKEN) throw new Error('API_TOKEN is not set')
      export const options = { iterations: 1 }
      export default function () { http.get(__ENV.BASE_URL + '/env-check') }`
    await expect(stack.api.runs.start.mutate({ script, location: 'us-east' })).rejects.toThrow(/engine-error: .*BASE_URL is not set/)
    const test = await stack.api.tests.create.mutate({
      name: 'needs its variables',
      script,
      variables: [{ name: 'BASE_URL', value: target.url }],
      secrets: [{ name: 'API_TOKEN', value: 'validation-must-not-see-this' }],
    })
    const { id } = await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east' })
    const run = await finished(id)
    expect(run.status).toBe('passed')
    expect(run.metrics.httpReqs).toBe(1)
  })
})
