// The fault suite: the platform as separate processes on real parts (Temporal dev server with its
// state on disk, Postgres and S3 behind TCP proxies that can be cut, the API and a runner as child
// processes, real k6 in its sandbox), and the faults every deployment meets — S3, Temporal, the
// database, a runner or the API going away at the worst moment. A finished run is never lost:
// it keeps its true outcome, its artifacts and every console line.
// Outage durations are the faults themselves (how long a part stays down), not waits for a result.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createStampedeClient, type ConsoleEvent } from '@stampede/sdk'
import { createStorage } from '@stampede/storage'
import { CLI_BIN } from '../src/clients.ts'
import { startFaultStack, type FaultStack } from '../src/fault-stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { runFinished, waitUntil } from '../src/wait.ts'

const LOCATIONS = 'us-east:US East:Virginia,eu-central:EU Central:Frankfurt,asia-pacific:Asia Pacific:Singapore'

let stack: FaultStack
let target: Target
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-faults-'))
  target = await startTarget()
  // One runner for every location with one k6 slot: runs in other locations must wait on
  // Temporal's queue while it is busy, not inside the runner.
  stack = await startFaultStack({ locations: LOCATIONS, runner: { K6_MAX_CONCURRENCY: '1', RUNNER_RETURN_SECONDS: '120' }, api: { RUN_TIMEOUT_SECONDS: '600' } })
}, 300_000)

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') console.log(stack.allLogs().slice(-20_000))
  await stack.heal()
}, 180_000)

afterAll(async () => {
  await stack?.stop()
  await target?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** A script that requests `path` at ~`rate` per second for `seconds` and prints a line per request. */
function steady(pathname: string, seconds: number, extra = ''): string {
  return `import http from 'k6/http'
import { sleep } from 'k6'
export const options = { vus: 1, duration: '${seconds}s' ${extra} }
export default function () { http.get('${target.url}${pathname}'); console.log('request ' + __ITER); sleep(0.1) }`
}

/** Waits until the run's row says running. */
const running = (id: string) =>
  waitUntil(`run ${id} to be running`, async () => ((await stack.api.runs.byId.query({ id })).status === 'running' ? true : undefined), 120_000, 50)

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

describe('storage down', () => {
  it('S3 down for 20 s across the end of a run: the run ends with its real outcome, then gets every artifact byte for byte', async () => {
    const { id } = await stack.api.runs.start.mutate({ script: steady('/s3', 4), location: 'us-east' })
    await running(id)
    await stack.s3.cut()
    const cutAt = Date.now()
    // The result does not wait for storage: it is recorded while S3 is still down.
    const recorded = await waitUntil('the result while S3 is down', async () => {
      const r = await stack.api.runs.byId.query({ id })
      return ['queued', 'running'].includes(r.status) ? undefined : r
    }, 60_000, 100)
    expect(Date.now() - cutAt).toBeLessThan(20_000)
    expect(recorded).toMatchObject({ status: 'passed', artifactsPending: true, errorMessage: null })
    expect(recorded.metrics.httpReqs).toBe(target.countOf('/s3'))
    await sleep(Math.max(0, 20_000 - (Date.now() - cutAt)))
    await stack.s3.restore()

    const run = await runFinished(stack.api, id, 180_000)
    expect(run).toMatchObject({ status: 'passed', artifactsPending: false, errorMessage: null })
    expect(Object.keys(run.artifacts).sort()).toEqual(['log', 'metrics', 'report', 'summary'])
    const storage = createStorage({ endpoint: stack.s3.directEndpoint, region: stack.s3.region, bucket: stack.s3.bucket, accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey, forcePathStyle: true })
    try {
      for (const [name, stored] of Object.entries(run.artifacts)) {
        const bytes = await storage.getBytes(stored.key)
        expect({ name, bytes: bytes.length, sha256: sha256(bytes) }).toEqual({ name, bytes: stored.bytes, sha256: stored.sha256 })
      }
      const log = (await storage.getBytes(run.artifacts.log!.key)).toString('utf8')
      // One line per console line (k6's banner has empty ones), each ending with a newline.
      expect(log.split('\n')).toHaveLength(run.consoleLines! + 1)
    } finally {
      storage.destroy()
    }
  }, 240_000)
})

describe('Temporal down', () => {
  it('Temporal SIGKILLed for 45 s mid-run: the finished run is passed with its metrics and its whole console', async () => {
    const { id } = await stack.api.runs.start.mutate({ script: steady('/temporal', 12), location: 'us-east' })
    await running(id)
    await waitUntil('a few requests', async () => (target.countOf('/temporal') >= 5 ? true : undefined), 30_000, 50)
    await stack.killTemporal()
    await sleep(45_000)
    await stack.restartTemporal()
    const back = Date.now()
    const run = await runFinished(stack.api, id, 240_000)
    expect(run).toMatchObject({ status: 'passed', exitCode: 0, errorMessage: null })
    // The runner's presence lapsed while Temporal was away (its heartbeats had nowhere to go):
    // it beats again soon after Temporal's return, and its locations have a runner again.
    await stack.runnersPresent()
    console.log(`[faults] runner present again ${Date.now() - back} ms after Temporal's return`)
    // k6 ran to its own end while Temporal was away: every request it made is in its metrics.
    expect(run.metrics.httpReqs).toBe(target.countOf('/temporal'))
    expect(run.metrics.httpReqs).toBeGreaterThan(50)
    expect(run.durationMs).toBeLessThan(20_000)
    expect(Object.keys(run.artifacts).sort()).toEqual(['log', 'metrics', 'report', 'summary'])
  }, 300_000)
})

describe('runner down', () => {
  it('a runner SIGKILLed mid-run: the run ends error with its partial console; runs waiting for its slot stay queued, then run once', async () => {
    const long = await stack.api.runs.start.mutate({ script: steady('/long', 60), location: 'us-east' })
    await running(long.id)
    // Its only k6 slot is taken: runs in the other locations wait on Temporal's queues.
    const waiting = [
      await stack.api.runs.start.mutate({ script: `import http from 'k6/http'\nexport const options = { iterations: 1 }\nexport default function () { http.get('${target.url}/waiting-eu') }`, location: 'eu-central' }),
      await stack.api.runs.start.mutate({ script: `import http from 'k6/http'\nexport const options = { iterations: 1 }\nexport default function () { http.get('${target.url}/waiting-ap') }`, location: 'asia-pacific' }),
    ]
    await waitUntil('some console lines of the long run', async () => (target.countOf('/long') >= 10 ? true : undefined), 30_000, 50)
    for (const w of waiting) expect(await stack.api.runs.byId.query({ id: w.id })).toMatchObject({ status: 'queued', waitingForRunner: false, startedAt: null })

    await stack.killRunner('runner')
    const killedAt = Date.now()
    const requestsBeforeKill = target.countOf('/long')
    // Presence notices the dead runner within its heartbeat timeout (10 s) plus the API's 2 s cache.
    await waitUntil('the queued runs to wait for a runner', async () => ((await stack.api.runs.byId.query({ id: waiting[0]!.id })).waitingForRunner ? true : undefined), 30_000, 200)
    expect(Date.now() - killedAt).toBeLessThan(20_000)
    for (const w of waiting) expect((await stack.api.runs.byId.query({ id: w.id })).status).toBe('queued')

    await stack.startRunner('runner', { K6_MAX_CONCURRENCY: '1', RUNNER_RETURN_SECONDS: '120' })
    const lost = await runFinished(stack.api, long.id, 180_000)
    expect(lost.status).toBe('error')
    expect(lost.errorMessage).toMatch(/runner stopped during the run/)
    // Its duration is k6's own (up to its last line), not the time until the result was written.
    expect(lost.durationMs!).toBeLessThan(Date.now() - Date.parse(lost.startedAt!) - 10_000)
    expect(lost.consoleLines).toBeGreaterThanOrEqual(requestsBeforeKill - 2)
    expect(lost.artifacts.log?.bytes).toBeGreaterThan(0)
    // No more load after the kill: k6 died with its runner and was never started again.
    expect(target.countOf('/long')).toBeLessThanOrEqual(requestsBeforeKill + 2)

    for (const w of waiting) {
      const run = await runFinished(stack.api, w.id, 120_000)
      expect(run.status).toBe('passed')
      expect(Date.parse(run.startedAt!)).toBeGreaterThan(killedAt)
    }
    expect(target.countOf('/waiting-eu')).toBe(1)
    expect(target.countOf('/waiting-ap')).toBe(1)
  }, 300_000)

  it('a runner that comes back after its run gave up on it stores the run\'s console and removes the run\'s directory', async () => {
    // Runs wait only 5 s for a runner to come back (the API puts this in each run's workflow).
    const runnerEnv = { K6_MAX_CONCURRENCY: '1', RUNNER_RETURN_SECONDS: '5' }
    await stack.stopApi()
    await stack.startApi({ RUNNER_RETURN_SECONDS: '5' })
    await stack.stopRunner('runner')
    await stack.startRunner('runner', runnerEnv)
    // Workflows must go on while `runner` is dead: a second runner (serving a location this test
    // does not use) runs them too.
    await stack.startRunner('orchestrator', { ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: 'asia-pacific', RUNNER_RETURN_SECONDS: '5' })
    try {
      const { id } = await stack.api.runs.start.mutate({ script: steady('/gone', 60), location: 'us-east' })
      await running(id)
      await waitUntil('some requests', async () => (target.countOf('/gone') >= 10 ? true : undefined), 30_000, 50)
      await stack.killRunner('runner')
      // Heartbeat timeout (30 s), then 5 s for the runner to come back: the run ends without it.
      const gaveUp = await runFinished(stack.api, id, 120_000)
      expect(gaveUp.status).toBe('error')
      expect(gaveUp.errorMessage).toMatch(/did not come back within 5 s/)
      expect(gaveUp.artifacts).toEqual({})
      // Its next life finds the directory, stores the console, attaches it and removes the directory.
      await stack.startRunner('runner', runnerEnv)
      const stored = await waitUntil('the console to be attached', async () => {
        const r = await stack.api.runs.byId.query({ id })
        return r.artifacts.log ? r : undefined
      }, 120_000, 500)
      expect(stored.status).toBe('error')
      expect(stored.artifacts.log!.bytes).toBeGreaterThan(0)
      await waitUntil('the run directory to be removed', async () => ((await readdir(stack.runnerWorkDir('runner'))).some((n) => n.startsWith(`run-${id}-`)) ? undefined : true), 60_000, 500)
    } finally {
      await stack.stopRunner('orchestrator')
      await stack.stopApi()
      await stack.startApi()
      await stack.stopRunner('runner')
      await stack.startRunner('runner', { K6_MAX_CONCURRENCY: '1', RUNNER_RETURN_SECONDS: '120' })
    }
  }, 300_000)
})

describe('API down', () => {
  it('the API SIGKILLed while two viewers follow at 400 lines/s: each viewer ends with every line exactly once', async () => {
    const script = `import { sleep } from 'k6'
export const options = { vus: 1, duration: '12s' }
export default function () { for (let i = 0; i < 40; i++) console.log('line ' + __ITER + ' ' + i); sleep(0.1) }`
    const { id } = await stack.api.runs.start.mutate({ script, location: 'us-east' })
    const follow = async () => {
      const client = createStampedeClient({ url: stack.apiUrl, token: stack.token })
      const seqs: number[] = []
      let end: Extract<ConsoleEvent, { type: 'end' }> | undefined
      for await (const e of client.followConsole(id, { reconnectDelayMs: 200, maxReconnectAttempts: 200 })) {
        if (e.type === 'lines') seqs.push(...e.lines.map((l) => l.seq))
        if (e.type === 'fill') seqs.push(...e.lines.map((l) => l.seq))
        if (e.type === 'end') end = e
      }
      return { seqs, end }
    }
    const viewers = [follow(), follow()]
    await waitUntil('the run to print', async () => ((await stack.api.runs.byId.query({ id })).status === 'running' ? true : undefined), 60_000, 50)
    await sleep(3_000)
    await stack.killApi()
    await sleep(3_000)
    await stack.startApi()
    const results = await Promise.all(viewers)
    const run = await runFinished(stack.api, id, 120_000)
    expect(run.status).toBe('passed')
    expect(run.consoleLines).toBeGreaterThan(2000)
    for (const { seqs, end } of results) {
      expect(end).toMatchObject({ status: 'passed', lastSeq: run.consoleLines })
      expect(new Set(seqs).size).toBe(seqs.length)
      expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: run.consoleLines! }, (_, i) => i + 1))
    }
  }, 240_000)
})

describe('database down', () => {
  it('the database cut 1 s before k6 ends, for 10 s: the run is recorded, every viewer gets end, the CLI exits with the run\'s code', async () => {
    const file = path.join(dir, 'db-cut.js')
    // Crossed thresholds: the CLI's exit code (99) proves it read the real outcome.
    await writeFile(file, steady('/db', 6, ", thresholds: { http_req_duration: ['max<0'] }"))
    const child = spawn(process.execPath, [CLI_BIN, 'run', file, '--location', 'us-east'], {
      cwd: dir,
      env: { ...process.env, STAMPEDE_URL: stack.apiUrl, STAMPEDE_TOKEN: stack.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const code = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)))
    // The run's id, from the CLI's first lines; then a second viewer on the WebSocket.
    const id = await waitUntil('the CLI to start the run', async () => /\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/.exec(output)?.[1], 60_000, 50)
    const client = createStampedeClient({ url: stack.apiUrl, token: stack.token })
    const viewer = (async () => {
      let end: ConsoleEvent | undefined
      for await (const e of client.followConsole(id, { reconnectDelayMs: 200, maxReconnectAttempts: 200 })) if (e.type === 'end') end = e
      return end
    })()
    await waitUntil('the first request', async () => (target.countOf('/db') > 0 ? true : undefined), 60_000, 20)
    const firstAt = Date.now()
    await sleep(5_000 - (Date.now() - firstAt))
    await stack.db.cut()
    await sleep(10_000)
    await stack.db.restore()
    expect(await code).toBe(99)
    expect(await viewer).toMatchObject({ type: 'end', status: 'failed' })
    const run = await runFinished(stack.api, id, 120_000)
    expect(run).toMatchObject({ status: 'failed', exitCode: 99 })
    expect(run.metrics.httpReqs).toBe(target.countOf('/db'))
  }, 180_000)
})

describe('many runs at once', () => {
  it('20 runs at once under a raised quota: all final, none stuck, no load run twice', async () => {
    const ids: string[] = []
    for (let i = 0; i < 20; i++) {
      const location = ['us-east', 'eu-central', 'asia-pacific'][i % 3]!
      const script = `import http from 'k6/http'\nexport const options = { iterations: 1 }\nexport default function () { http.get('${target.url}/many-${i}') }`
      ids.push((await stack.api.runs.start.mutate({ script, location })).id)
    }
    const runs = await Promise.all(ids.map((id) => runFinished(stack.api, id, 240_000)))
    expect(runs.map((r) => r.status)).toEqual(ids.map(() => 'passed'))
    for (let i = 0; i < 20; i++) expect(target.countOf(`/many-${i}`), `run ${i}`).toBe(1)
  }, 300_000)
})
