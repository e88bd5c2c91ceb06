// The run path end to end on real parts: real Temporal dev server, real Postgres, an
// S3-compatible server, the real k6 binary, aimed only at a target this test starts on 127.0.0.1.
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, loadApiConfig } from '@stampede/api'
import { mergeFrames, parseFrames, seriesKey, type Frame } from '@stampede/k6-output'
import type { ConsoleMessage } from '@stampede/shared'
import { followRun } from '../src/console-client.ts'
import { startStack, type Stack } from '../src/stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { waitUntil, runFinished } from '../src/wait.ts'

let stack: Stack
let target: Target

beforeAll(async () => {
  target = await startTarget()
  stack = await startStack({ locations: 'us-east:US East:Virginia,eu-central:EU Central:Frankfurt', runner: { ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: 'us-east' } })
})
afterAll(async () => {
  await stack?.stop()
  await target?.stop()
})

const finished = (runId: string, timeoutMs = 90_000) => runFinished(stack.api, runId, timeoutMs)

/** Every console line the messages (or the SDK's events) carried in `lines`, in order. */
const lines = (messages: ConsoleMessage[]) => messages.flatMap((m) => (m.type === 'lines' ? m.lines : []))
const hasLine = (m: ConsoleMessage, text: string) => m.type === 'lines' && m.lines.some((l) => l.text.includes(text))

describe('a passing run', () => {
  it('counts exactly the requests the target received, stores byte-exact artifacts and relays every console line in order', async () => {
    target.reset()
    const script = `
      import http from 'k6/http'
      import { check, sleep } from 'k6'
      export const options = {
        scenarios: { fixed: { executor: 'shared-iterations', vus: 2, iterations: 40, maxDuration: '30s' } },
        thresholds: { http_req_failed: ['rate<0.01'], http_req_duration: ['p(95)<2000'] },
      }
      export default function () {
        const res = http.get('${target.url}/')
        check(res, { 'status is 200': (r) => r.status === 200 })
        console.log('iteration ' + __ITER + ' of vu ' + __VU)
        sleep(0.12) // long enough (≥ 2 dashboard periods) for k6 to write its HTML report
      }`
    const test = await stack.api.tests.create.mutate({ name: 'passing', script })
    const started = await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east' })
    expect(started.status).toBe('queued')
    expect(started.trigger).toBe('api')
    const viewer = followRun(stack, started.id)
    const end = await viewer.waitFor((e) => e.type === 'end', 90_000)
    const run = await finished(started.id)

    expect(run.status).toBe('passed')
    expect(end).toMatchObject({ type: 'end', status: 'passed' })
    expect(run.exitCode).toBe(0)
    expect(run.metrics.httpReqs).toBe(40)
    expect(target.count).toBe(40)
    expect(run.metrics.iterations).toBe(40)
    expect(run.metrics.checksPassed).toBe(40)
    expect(run.metrics.checksFailed).toBe(0)
    expect(run.metrics.httpReqFailedRate).toBe(0)
    expect(run.metrics.httpReqDuration.p99).toBeGreaterThan(0)
    expect(run.thresholdsPassed).toBe(true)
    expect(run.thresholds.map((t) => `${t.metric} ${t.expression} ${t.ok}`)).toEqual([
      'http_req_duration p(95)<2000 true',
      'http_req_failed rate<0.01 true',
    ])
    expect(run.startedAt).not.toBeNull()
    expect(run.durationMs).toBeGreaterThan(0)

    // Every console line arrived over the WebSocket, in order, without a gap, in uncompressed
    // messages: the relay sends one frame's bytes to every viewer, so nothing is deflated per viewer.
    expect(viewer.extensions).toBe('')
    const got = lines(viewer.events)
    expect(viewer.connections).toBe(1)
    expect(viewer.wire.some((m) => m.type === 'gap')).toBe(false)
    // Each line came over the wire once: the wire holds exactly what the SDK delivered.
    expect(lines(viewer.wire).map((l) => l.seq)).toEqual(got.map((l) => l.seq))
    expect(got.map((l) => l.seq)).toEqual(Array.from({ length: got.length }, (_, i) => i + 1))
    expect(got.length).toBe(run.consoleLines)
    expect(got.filter((l) => l.text.includes('iteration ')).length).toBe(40)

    // All four artifacts download byte-identical to what k6 wrote.
    for (const name of ['summary', 'report', 'log', 'metrics'] as const) {
      const record = run.artifacts[name]
      expect(record, `${name} artifact recorded`).toBeDefined()
      const link = await stack.api.runs.artifactUrl.query({ runId: run.id, name })
      const res = await fetch(link.url)
      expect(res.status).toBe(200)
      const bytes = Buffer.from(await res.arrayBuffer())
      expect(bytes.length).toBe(record!.bytes)
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(record!.sha256)
      if (name === 'log') expect(bytes.toString('utf8')).toBe(got.map((l) => l.text + '\n').join(''))
      if (name === 'summary') expect(JSON.parse(bytes.toString('utf8')).metrics.http_reqs.count).toBe(40)
      if (name === 'report') {
        expect(bytes.toString('utf8')).toMatch(/<html/i)
        expect(res.headers.get('content-security-policy')).toMatch(/sandbox/)
      }
      if (name === 'metrics') {
        // Stampede's per-second frames: merged, they count every request of the run.
        const frames = parseFrames(gunzipSync(bytes).toString('utf8'))
        expect(frames.at(-1)?.final).toBe(true)
        expect(mergeFrames(frames).series.get(seriesKey({ metric: 'http_reqs' }))?.count).toBe(40)
      }
    }
    // A tampered link is refused.
    const link = await stack.api.runs.artifactUrl.query({ runId: run.id, name: 'log' })
    expect((await fetch(link.url.replace(/sig=[^&]+/, 'sig=forged'))).status).toBe(403)

    // A viewer of the finished run gets the archived console.
    const late = followRun(stack, run.id, { after: 5 })
    await late.done
    expect(lines(late.events).map((l) => l.seq)).toEqual(got.slice(5).map((l) => l.seq))
    expect(late.events.at(-1)).toMatchObject({ type: 'end', status: 'passed' })
    // The server itself started after 5 (the SDK would drop earlier lines without a trace).
    expect(late.connections).toBe(1)
    expect(lines(late.wire).map((l) => l.seq)).toEqual(got.slice(5).map((l) => l.seq))
    expect(late.wire.at(-1)).toMatchObject({ type: 'end', status: 'passed' })
  })
})

describe('metric cardinality', () => {
  it('keeps a script that requests 5,000 distinct URLs under the series cap, says so once, and passes', async () => {
    target.reset()
    const script = `
      import http from 'k6/http'
      export const options = { vus: 5, iterations: 5000 }
      export default function () { http.get('${target.url}/item/' + __VU + '-' + __ITER) }`
    const { id } = await stack.api.runs.start.mutate({ script, location: 'us-east' })
    const viewer = followRun(stack, id)
    await viewer.waitFor((e) => e.type === 'end', 120_000)
    const run = await finished(id)
    expect(run.status).toBe('passed')
    expect(target.count).toBe(5000)
    const warnings = lines(viewer.events).filter((l) => l.text.includes('tagged metric series'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.text).toMatch(/more than 1000 tagged metric series/)
    const link = await stack.api.runs.artifactUrl.query({ runId: id, name: 'metrics' })
    const merged = mergeFrames(parseFrames(gunzipSync(Buffer.from(await (await fetch(link.url)).arrayBuffer())).toString('utf8')))
    const tagged = [...merged.series.values()].filter((s) => s.tags !== undefined)
    expect(tagged.length).toBeLessThanOrEqual(1000)
    // Totals stay exact past the cap, and the overflow series count what the cap turned away.
    expect(merged.series.get(seriesKey({ metric: 'http_reqs' }))?.count).toBe(5000)
    const overflow = merged.series.get(seriesKey({ metric: 'http_reqs', overflow: true }))
    const kept = tagged.filter((s) => s.metric === 'http_reqs').reduce((n, s) => n + s.count, 0)
    expect(kept + (overflow?.count ?? 0)).toBe(5000)
    expect(overflow?.count).toBeGreaterThan(0)
  })
})

describe('runs that do not pass', () => {
  it('ends failed when thresholds are crossed, naming the threshold', async () => {
    const script = `
      import http from 'k6/http'
      export const options = { iterations: 5, thresholds: { http_req_duration: ['max<0'] } }
      export default function () { http.get('${target.url}/') }`
    const run = await finished((await stack.api.runs.start.mutate({ script, location: 'us-east' })).id)
    expect(run.status).toBe('failed')
    expect(run.exitCode).toBe(99)
    expect(run.thresholdsPassed).toBe(false)
    expect(run.thresholds).toEqual([{ metric: 'http_req_duration', expression: 'max<0', ok: false, actual: run.metrics.httpReqDuration.max }])
    expect(run.thresholds[0]!.actual).toBeGreaterThan(0)
    expect(run.errorMessage).toContain("http_req_duration 'max<0'")
  })

  it('refuses init code that throws before any load, and ends error with k6 message when a VU cannot initialise', async () => {
    // Validation runs k6's own engine check: init code that always throws never starts a run.
    await expect(
      stack.api.runs.start.mutate({ script: `import http from 'k6/http'\nthrow new Error('broken init code')\nexport default function () {}`, location: 'us-east' }),
    ).rejects.toThrow(/engine-error: .*broken init code/)
    // Init code that fails only in VU context passes the check; the runner reports k6's error.
    const script = `
      import http from 'k6/http'
      if (__VU > 0) throw new Error('broken init code')
      export const options = { iterations: 1 }
      export default function () {}`
    const run = await finished((await stack.api.runs.start.mutate({ script, location: 'us-east' })).id)
    expect(run.status).toBe('error')
    expect(run.exitCode).toBe(107)
    expect(run.errorMessage).toContain('broken init code')
  })

  it('ends error with k6 message when setup() throws', async () => {
    const script = `
      export function setup() { throw new Error('setup could not log in') }
      export default function () {}`
    const run = await finished((await stack.api.runs.start.mutate({ script, location: 'us-east' })).id)
    expect(run.status).toBe('error')
    expect(run.errorMessage).toContain('setup could not log in')
    expect(run.artifacts.log).toBeDefined()
  })

  it('cancels mid-run within seconds and keeps partial artifacts', async () => {
    const script = `
      import http from 'k6/http'
      import { sleep } from 'k6'
      export const options = { vus: 2, duration: '60s' }
      export default function () { http.get('${target.url}/'); console.log('still going'); sleep(0.2) }`
    const { id } = await stack.api.runs.start.mutate({ script, location: 'us-east' })
    const viewer = followRun(stack, id)
    await viewer.waitFor((e) => hasLine(e, 'still going'), 60_000)
    const askedAt = Date.now()
    await stack.api.runs.cancel.mutate({ id })
    const run = await finished(id, 30_000)
    const tookMs = Date.now() - askedAt
    expect(run.status).toBe('cancelled')
    expect(tookMs).toBeLessThan(15_000)
    expect(run.artifacts.log).toBeDefined()
    expect(run.artifacts.summary).toBeDefined()
    expect(run.metrics.httpReqs).toBeGreaterThan(0)
    await viewer.done
    expect(viewer.events.at(-1)).toMatchObject({ type: 'end', status: 'cancelled' })
  })
})

describe('timeouts', () => {
  it('stops a run that exceeds its timeout and ends timed_out with its artifacts', async () => {
    const script = `
      import { sleep } from 'k6'
      export const options = { vus: 1, duration: '60s' }
      export default function () { console.log('waiting'); sleep(0.5) }`
    const { id, timeoutSeconds } = await stack.api.runs.start.mutate({ script, location: 'us-east', timeoutSeconds: 5 })
    expect(timeoutSeconds).toBe(5)
    const run = await finished(id, 60_000)
    expect(run.status).toBe('timed_out')
    expect(run.durationMs).toBeGreaterThanOrEqual(5000)
    expect(run.durationMs).toBeLessThan(20_000)
    expect(run.errorMessage).toMatch(/timeout/)
    expect(run.artifacts.log).toBeDefined()
  })
})

describe('locations', () => {
  it('keeps a run for an unserved location queued, then runs it once a runner for it starts', async () => {
    target.reset()
    const script = `
      import http from 'k6/http'
      export const options = { iterations: 3 }
      export default function () { http.get('${target.url}/') }`
    const { id } = await stack.api.runs.start.mutate({ script, location: 'eu-central' })
    const waiting = await waitUntil('the run to be shown waiting for a runner', async () => {
      const run = await stack.api.runs.byId.query({ id })
      return run.waitingForRunner ? run : undefined
    }, 20_000)
    expect(waiting.status).toBe('queued')
    const listed = await stack.api.runs.list.query({ location: 'eu-central', status: 'queued' })
    expect(listed.items.find((r) => r.id === id)?.waitingForRunner).toBe(true)
    const inFlight = await stack.api.runs.inFlight.query()
    expect(inFlight.map((c) => c.location)).toEqual(['us-east', 'eu-central'])
    expect(inFlight.find((c) => c.location === 'eu-central')).toEqual({ location: 'eu-central', queued: 1, running: 0 })
    const locations = await stack.api.locations.list.query()
    expect(locations.find((l) => l.id === 'eu-central')?.runnerAvailable).toBe(false)
    expect(locations.find((l) => l.id === 'us-east')?.runnerAvailable).toBe(true)
    // It stays queued: nothing drops it while no runner serves eu-central.
    await new Promise((r) => setTimeout(r, 3000))
    expect((await stack.api.runs.byId.query({ id })).status).toBe('queued')
    expect(target.count).toBe(0)

    await stack.startRunner({ ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: 'eu-central', RUNNER_ORCHESTRATION: 'false' })
    const run = await finished(id)
    expect(run.status).toBe('passed')
    expect(run.location).toBe('eu-central')
    expect(target.count).toBe(3)
    expect((await stack.api.runs.inFlight.query()).find((c) => c.location === 'eu-central')).toEqual({ location: 'eu-central', queued: 0, running: 0 })
  })

  it('refuses an unknown location and bad input with errors naming the field', async () => {
    await expect(stack.api.runs.start.mutate({ script: 'export default function () {}', location: 'mars-north' })).rejects.toThrow(/location: "mars-north" is not a configured location; choose one of us-east, eu-central/)
    await expect(stack.api.runs.start.mutate({ testId: 'nope', location: 'us-east' })).rejects.toThrow('testId: must be an id as returned by the API (a UUID)')
    await expect(stack.api.tests.create.mutate({ name: '', script: 'x' })).rejects.toThrow('name: is required')
    await expect(stack.api.runs.start.mutate({ location: 'us-east' })).rejects.toThrow('testId: give exactly one of testId (a saved test), script (an unsaved script, with its files) or archive (an uploaded k6 archive)')
    await expect(stack.api.runs.start.mutate({ script: '', location: 'us-east' })).rejects.toThrow('script: is empty; paste or write a k6 script')
    await expect(stack.api.runs.start.mutate({ script: 'x', location: 'US East' })).rejects.toThrow('location: must be a location id')
    await expect(stack.api.runs.start.mutate({ script: 'x', location: 'us-east', timeoutSeconds: 1 })).rejects.toThrow('timeoutSeconds: must be at least 5 seconds')
  })
})

describe('API surface', () => {
  it('manages tests and lists runs with filters, keeping runs when their test is deleted', async () => {
    const created = await stack.api.tests.create.mutate({ name: 'crud', description: 'd', script: 'export default function () {}' })
    const updated = await stack.api.tests.update.mutate({ id: created.id, name: 'crud renamed' })
    expect(updated).toMatchObject({ id: created.id, name: 'crud renamed', description: 'd' })
    expect((await stack.api.tests.list.query()).some((t) => t.id === created.id)).toBe(true)
    const run = await finished((await stack.api.runs.start.mutate({ testId: created.id, location: 'us-east' })).id)
    expect((await stack.api.tests.byId.query({ id: created.id })).lastRun).toMatchObject({ id: run.id, status: 'passed' })
    const byTest = await stack.api.runs.list.query({ testId: created.id })
    expect(byTest.items.map((r) => r.id)).toEqual([run.id])
    const failedOnly = await stack.api.runs.list.query({ status: 'failed' })
    expect(failedOnly.items.length).toBeGreaterThan(0)
    expect(failedOnly.items.every((r) => r.status === 'failed')).toBe(true)
    const page = await stack.api.runs.list.query({ limit: 2 })
    expect(page.items).toHaveLength(2)
    const next = await stack.api.runs.list.query({ limit: 2, cursor: page.nextCursor! })
    expect(next.items.map((r) => r.id)).not.toContain(page.items[0]!.id)

    await stack.api.tests.delete.mutate({ id: created.id })
    await expect(stack.api.tests.byId.query({ id: created.id })).rejects.toThrow(/does not exist/)
    const kept = await stack.api.runs.byId.query({ id: run.id })
    expect(kept).toMatchObject({ id: run.id, testId: null, status: 'passed' })
    await expect(stack.api.tests.delete.mutate({ id: created.id })).rejects.toThrow(/does not exist/)
  })

  it('reports the database, Temporal, S3 and the k6 sandbox on /healthz', async () => {
    const res = await fetch(`${stack.apiUrl}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      ok: true,
      down: [],
      database: { ok: true },
      temporal: { ok: true },
      s3: { ok: true },
      parts: { database: { ok: true }, temporal: { ok: true }, storage: { ok: true } },
      sandbox: { ok: true, mode: 'bubblewrap', detail: expect.stringContaining('bubblewrap sandbox') as unknown },
    })

    // The same API with S3 out of reach says so, and which part is down.
    const broken = await createServer(loadApiConfig({ ...stack.env, API_PORT: '0', S3_ENDPOINT: 'http://127.0.0.1:1' }))
    try {
      const url = await broken.start()
      const down = await fetch(`${url}/healthz`)
      expect(down.status).toBe(503)
      const body = (await down.json()) as { ok: boolean; database: { ok: boolean }; s3: { ok: boolean; error?: string } }
      expect(body).toMatchObject({ ok: false, database: { ok: true }, s3: { ok: false } })
      expect(body.s3.error).toBeTruthy()
    } finally {
      await broken.stop()
    }
  })
})

describe('live console', () => {
  it('a viewer that disconnects mid-run and reconnects with after misses nothing', async () => {
    const script = `
      import { sleep } from 'k6'
      export const options = { iterations: 1 }
      export default function () {
        for (let i = 1; i <= 120; i++) { console.log('tick ' + i); sleep(0.05) }
      }`
    const { id } = await stack.api.runs.start.mutate({ script, location: 'us-east' })
    const first = followRun(stack, id)
    await first.waitFor((e) => hasLine(e, 'tick 20'), 60_000)
    await first.close()
    const seen = lines(first.events)
    const after = seen.at(-1)!.seq
    await new Promise((r) => setTimeout(r, 1500))
    const second = followRun(stack, id, { after })
    await second.waitFor((e) => e.type === 'end', 60_000)
    const all = [...seen, ...lines(second.events)]
    expect(second.wire.some((m) => m.type === 'gap')).toBe(false)
    // The server resumed right after `after`: it sent nothing the first viewer had.
    expect(second.connections).toBe(1)
    expect(lines(second.wire).map((l) => l.seq)).toEqual(lines(second.events).map((l) => l.seq))
    expect(all.map((l) => l.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1))
    const ticks = all.filter((l) => /tick \d+/.test(l.text)).map((l) => Number(/tick (\d+)/.exec(l.text)![1]))
    expect(ticks).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
  })

  it('delivers a metric frame for every period of a 20 s run, and a viewer that resumes from its last period misses none and repeats none', async () => {
    target.reset()
    const script = `
      import http from 'k6/http'
      import { sleep } from 'k6'
      export const options = { vus: 2, duration: '20s' }
      export default function () { http.get('${target.url}/frames'); sleep(0.1) }`
    const { id } = await stack.api.runs.start.mutate({ script, location: 'us-east' })
    const frames = (messages: ConsoleMessage[]) => messages.flatMap((m) => (m.type === 'metrics' ? m.frames : []))
    // One viewer stays from the start to the end; another leaves after a few frames and comes back.
    const whole = followRun(stack, id, { metrics: true })
    const first = followRun(stack, id, { metrics: true })
    await first.waitFor(() => frames(first.events).length >= 5, 60_000)
    await first.close()
    const held = frames(first.events)
    const heldLines = lines(first.events)
    // The run goes on meanwhile: the returning viewer's frames come from the relay's buffer.
    await whole.waitFor(() => frames(whole.events).length >= held.length + 3, 60_000)
    const second = followRun(stack, id, { after: heldLines.at(-1)?.seq ?? 0, metrics: { after: held.at(-1)!.start } })
    await Promise.all([whole.waitFor((e) => e.type === 'end', 90_000), second.waitFor((e) => e.type === 'end', 90_000)])
    const run = await finished(id)
    expect(run.status).toBe('passed')

    const link = await stack.api.runs.artifactUrl.query({ runId: id, name: 'metrics' })
    const stored = parseFrames(gunzipSync(Buffer.from(await (await fetch(link.url)).arrayBuffer())).toString('utf8'))
    expect(stored.length).toBeGreaterThanOrEqual(20)
    expect(stored.at(-1)?.final).toBe(true)
    const periods = (fs: { start: number; end: number }[]) => fs.map((f) => `${f.start}-${f.end}`)
    // Every period once, in order, each starting where the previous ended: the stored frames exactly.
    const live = frames(whole.events)
    expect(periods(live)).toEqual(periods(stored))
    // The server sent each period once (the SDK would drop a repeat without a trace).
    expect(periods(frames(whole.wire))).toEqual(periods(stored))
    for (let i = 1; i < live.length; i++) expect(live[i]!.start).toBe(live[i - 1]!.end)
    const resumed = [...held, ...frames(second.events)]
    expect(periods(resumed)).toEqual(periods(stored))
    expect(periods(frames(second.wire))).toEqual(periods(frames(second.events)))
    // The frames count what the target received.
    expect(mergeFrames(live as Frame[]).series.get(seriesKey({ metric: 'http_reqs' }))?.count).toBe(target.countOf('/frames'))
  })
})
