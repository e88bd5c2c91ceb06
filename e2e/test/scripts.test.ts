// Script validation end to end: the API checks scripts statically and with the real k6 binary
// before anything runs, and every valid corpus script and every template really runs on the
// runner against targets this test starts on 127.0.0.1.
import { readdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { WebSocketServer } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEMPLATES } from '@stampede/shared/templates'
import { startStack, type Stack } from '../src/stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { waitUntil, runFinished } from '../src/wait.ts'

let stack: Stack
let target: Target
let wsServer: http.Server
let wsUrl: string

beforeAll(async () => {
  target = await startTarget()
  wsServer = http.createServer()
  const wss = new WebSocketServer({ server: wsServer })
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data.toString())))
  await new Promise<void>((resolve) => wsServer.listen(0, '127.0.0.1', resolve))
  wsUrl = `ws://127.0.0.1:${(wsServer.address() as AddressInfo).port}/`
  stack = await startStack({ api: { MAX_VUS: '600', MAX_DURATION_SECONDS: '3600' } })
}, 120_000)
afterAll(async () => {
  await stack?.stop()
  await target?.stop()
  wsServer?.closeAllConnections()
  await new Promise<void>((resolve) => (wsServer ? wsServer.close(() => resolve()) : resolve()))
})

const finished = (runId: string, timeoutMs = 90_000) => runFinished(stack.api, runId, timeoutMs)

const corpusDir = fileURLToPath(new URL('../../packages/shared/src/script/corpus/valid/', import.meta.url))
const corpus = readdirSync(corpusDir).sort().map((file) => ({ file, source: readFileSync(corpusDir + file, 'utf8') }))
const localise = (source: string) => source.replaceAll('__WS_TARGET__', wsUrl).replaceAll('__TARGET__', target.url)

/** Runs `fn` over `items`, `size` at a time (the runner runs up to 3 k6 at once). */
async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn))
}

describe('scripts.validate', () => {
  it('returns what k6 says the script needs', async () => {
    const result = await stack.api.scripts.validate.mutate({
      script: `import http from 'k6/http'\nexport const options = { stages: [{ duration: '1m', target: 20 }, { duration: '30s', target: 5 }], thresholds: { http_req_failed: ['rate<0.01'] } }\nexport default function () { http.get('${target.url}') }`,
    })
    expect(result).toEqual({ ok: true, errors: [], warnings: [], requirements: { maxVUs: 20, totalDurationSeconds: 120 } })
  })

  it("surfaces k6's own error, with its position, for a script that only fails in k6", async () => {
    const result = await stack.api.scripts.validate.mutate({
      script: `import http from 'k6/http'\nexport const options = { thresholds: { checks: ['rate>0.9'] } }\nconst config = undefined\nconst base = config.baseUrl\nexport default function () { http.get(base) }`,
    })
    expect(result.ok).toBe(false)
    expect(result.requirements).toBeNull()
    expect(result.errors).toEqual([{ code: 'engine-error', line: 4, column: expect.any(Number), message: expect.stringContaining("TypeError: Cannot read property 'baseUrl' of undefined") }])
    expect(result.errors[0]!.message).not.toContain('/tmp/')
  })

  it('reports static errors with code and position without running k6', async () => {
    const result = await stack.api.scripts.validate.mutate({ script: `import http from 'k6/http'\nimport fs from 'node:fs'\nexport const options = {}\n` })
    expect(result.errors.map((e) => `${e.code} ${e.line}:${e.column}`)).toEqual(['node-builtin-import 2:16', 'no-default-export 3:1'])
  })
})

describe('refusing scripts before a run starts', () => {
  it('runs.start refuses a script with errors, listing each', async () => {
    const script = `import http from 'k6/http'\nimport { chromium } from 'playwright'\nconst data = open('/etc/passwd')\n`
    const err = await stack.api.runs.start.mutate({ script, location: 'us-east' }).then(() => undefined, (e: Error & { data?: { code?: string } }) => e)
    expect(err?.data?.code).toBe('BAD_REQUEST')
    expect(err?.message).toContain('2:26 playwright-import')
    expect(err?.message).toContain('3:19 open-absolute-path')
    expect(err?.message).toContain('no-default-export')
    expect((await stack.api.runs.list.query({})).items).toEqual([])
  })

  it('refuses a script over the VU cap, with the numbers', async () => {
    const script = `import http from 'k6/http'\nexport const options = { vus: 800, duration: '10s', thresholds: { http_req_failed: ['rate<0.01'] } }\nexport default function () { http.get('${target.url}') }`
    await expect(stack.api.runs.start.mutate({ script, location: 'us-east' })).rejects.toThrow(/needs up to 800 VUs; this platform allows at most 600/)
    await expect(stack.api.tests.create.mutate({ name: 'too big', script })).rejects.toThrow(/too-many-vus/)
    const result = await stack.api.scripts.validate.mutate({ script })
    expect(result).toMatchObject({ ok: false, requirements: { maxVUs: 800, totalDurationSeconds: 40 }, errors: [{ code: 'too-many-vus' }] })
  })

  it('refuses a script over the duration cap, with the numbers', async () => {
    const script = `import http from 'k6/http'\nexport const options = { vus: 1, duration: '2h', thresholds: { http_req_failed: ['rate<0.01'] } }\nexport default function () { http.get('${target.url}') }`
    const result = await stack.api.scripts.validate.mutate({ script })
    expect(result.errors).toEqual([expect.objectContaining({ code: 'too-long', message: expect.stringContaining('allows at most 60 min') })])
  })
})

describe('the valid corpus', () => {
  it(`runs every one of the ${corpus.length} scripts on the runner`, async () => {
    const outcomes: string[] = []
    await inBatches(corpus, 3, async ({ file, source }) => {
      const started = await stack.api.runs.start.mutate({ script: localise(source), location: 'us-east' }).catch((err: Error) => err)
      if (started instanceof Error) return void outcomes.push(`${file}: refused (${started.message})`)
      const run = await finished(started.id)
      outcomes.push(`${file}: ${run.status}${run.errorMessage ? ` (${run.errorMessage})` : ''}`)
    })
    expect(outcomes.sort()).toEqual(corpus.map((c) => `${c.file}: passed`))
  }, 240_000)
})

describe('templates', () => {
  // These complete in seconds; the others (minutes of load) are started, seen hitting the
  // target, and cancelled.
  const completing = new Set(['smoke', 'thresholds-checks', 'api-crud', 'websocket'])

  it('templates.list and templates.byId serve every template', async () => {
    const list = await stack.api.templates.list.query()
    expect(list.map((t) => t.id)).toEqual(TEMPLATES.map((t) => t.id))
    expect((await stack.api.templates.byId.query({ id: 'smoke' })).script).toContain('export default function')
    await expect(stack.api.templates.byId.query({ id: 'nope' })).rejects.toThrow(/does not exist/)
  })

  it('every template validates clean and really runs', async () => {
    const outcomes: string[] = []
    await inBatches([...TEMPLATES], 3, async (t) => {
      const script = t.script.replace("'https://quickpizza.grafana.com'", `'${target.url}'`).replace("'wss://echo.websocket.org'", `'${wsUrl}'`)
      const validation = await stack.api.scripts.validate.mutate({ script: t.script })
      expect(validation.errors, t.id).toEqual([])
      expect(validation.warnings, t.id).toEqual([])
      const before = target.count
      const { id } = await stack.api.runs.start.mutate({ script, location: 'us-east' })
      if (completing.has(t.id)) {
        const run = await finished(id)
        outcomes.push(`${t.id}: ${run.status}`)
        return
      }
      await waitUntil(`${t.id} to send requests`, async () => ((await stack.api.runs.byId.query({ id })).status === 'running' && target.count > before ? true : undefined), 60_000, 200)
      await stack.api.runs.cancel.mutate({ id })
      const run = await finished(id, 60_000)
      outcomes.push(`${t.id}: ${run.status}`)
    })
    // The CRUD template's checks expect a real API; the local target answers "ok" to everything,
    // so its checks pass on status only and the run must still pass.
    expect(outcomes.sort()).toEqual(TEMPLATES.map((t) => `${t.id}: ${completing.has(t.id) ? 'passed' : 'cancelled'}`).sort())
  }, 240_000)
})
