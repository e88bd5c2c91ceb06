// The k6 activity against a fake k6 process (the narrow spawn boundary): heartbeats carry
// sequenced console chunks, cancellation stops k6 with SIGINT, then SIGKILL after the grace.
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { MockActivityEnvironment } from '@temporalio/testing'
import { describe, expect, it } from 'vitest'
import { artifactKey, type Artifacts } from '@stampede/shared'
import type { ArtifactUploads, K6Heartbeat, K6Outcome, K6Task, RunWorkflowInput } from '@stampede/shared/temporal'
import { K6Sandbox } from '@stampede/sandbox'
import type { K6Control, K6Status } from '../k6/control.ts'
import type { K6Exit, SpawnK6 } from '../k6/process.ts'
import { createK6Activities } from './k6.ts'

/** What the workflow hands a runner for a run, besides the run's ids (the secrets come through a grant). */
interface RunSpec {
  script: string
  env: Record<string, string>
  secrets: Record<string, string>
  allowlist: string[]
  caps: K6Task['caps']
}

/** Presigned uploads into memory: the URL names the object's key. */
function memoryUploads() {
  const objects = new Map<string, Buffer>()
  const upload = async (target: { url: string }, file: string) => {
    const bytes = await readFile(file)
    objects.set(new URL(target.url).pathname.slice(1), bytes)
    return { bytes: bytes.length, sha256: 'x' }
  }
  const uploads = (runId: string): ArtifactUploads => ({
    runId,
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
    files: Object.fromEntries(['summary.json', 'report.html', 'console.log', 'metrics.json.gz', 'metrics.ndjson.gz', 'console.ndjson'].map((f) => [f, { url: `http://s3.invalid/${artifactKey(runId, f)}`, headers: {} }])),
  })
  return { objects, upload, uploads }
}

interface FakeK6 {
  signals: NodeJS.Signals[]
  line(text: string): void
  errLine(text: string): void
  exit(exit: K6Exit): void
  cwd?: string
  env?: Record<string, string>
}

function fakeSpawn(onSignal?: (k6: FakeK6, sig: NodeJS.Signals) => void) {
  const k6: FakeK6 = { signals: [], line: () => {}, errLine: () => {}, exit: () => {} }
  const spawnK6: SpawnK6 = (opts) => {
    k6.cwd = opts.plan.cwd
    k6.env = opts.plan.env
    let resolveExit!: (e: K6Exit) => void
    const exited = new Promise<K6Exit>((r) => (resolveExit = r))
    k6.line = (text) => opts.onLine('stdout', text)
    k6.errLine = (text) => opts.onLine('stderr', text)
    k6.exit = resolveExit
    return {
      pid: 1,
      exited,
      signal(sig) {
        k6.signals.push(sig)
        onSignal?.(k6, sig)
      },
    }
  }
  return { k6, spawnK6 }
}

const CAPS = { maxVUs: 5, maxDurationSeconds: 3600, owner: 'project' as const }
const SPEC: RunSpec = { script: 'export default function () {}', env: {}, secrets: {}, allowlist: [], caps: CAPS }

async function setup(spawnK6: SpawnK6, stopGraceMs = 5000, spec: RunSpec = SPEC, extra: Partial<Parameters<typeof createK6Activities>[0]> = {}) {
  const workRoot = await mkdtemp(path.join(os.tmpdir(), 'k6-activity-'))
  const { objects, upload, uploads } = memoryUploads()
  const running: string[] = []
  const redeemed: string[] = []
  // The fake process ignores the plan: the sandbox only names the directory and environment here.
  const sandbox = await K6Sandbox.create({ mode: 'off', k6BinPath: '/fake/k6', root: workRoot, log: () => {} })
  const activities = createK6Activities({
    spawnK6,
    sandbox,
    limits: { memoryBytes: 1 << 30, threads: 256, fileBytes: 1 << 20 },
    maxLogBytes: 1 << 20,
    upload,
    reportStarted: (id) => void running.push(id),
    redeemSecrets: async (runId, grant) => {
      redeemed.push(`${runId}:${grant.token}`)
      return spec.secrets
    },
    allowLoopbackTargets: false,
    stopGraceMs,
    heartbeatIntervalMs: 20,
    runnerQueue: RUNNER,
    workDir: workRoot,
    ...extra,
  })
  const env = new MockActivityEnvironment()
  const heartbeats: K6Heartbeat[] = []
  env.on('heartbeat', (d: unknown) => heartbeats.push(d as K6Heartbeat))
  /** Stores the run's spool, as the workflow does once the result is recorded (in a fresh activity context). */
  const store = (): Promise<Artifacts> => inActivity(() => activities.storeArtifacts({ runId: 'r1', uploads: uploads('r1') }))
  // The runner gets the script, variables and caps with the run; secrets only through a grant.
  const task = (run: RunWorkflowInput): K6Task => ({
    ...run,
    script: spec.script,
    env: spec.env,
    allowlist: spec.allowlist,
    caps: spec.caps,
    ...(Object.keys(spec.secrets).length > 0 ? { secrets: { url: 'http://api.invalid/runner/v1/secrets', token: 'sg_t', expiresAt: new Date(Date.now() + 60_000).toISOString(), names: Object.keys(spec.secrets) } } : {}),
  })
  return { activities: { ...activities, executeK6: (run: RunWorkflowInput) => activities.executeK6(task(run)) }, env, heartbeats, objects, running, redeemed, store, workRoot }
}

const RUNNER = 'stampede-runner-test'

/** Runs `fn` in a fresh activity context (the runner-queue activities each get their own). */
async function inActivity<R>(fn: () => Promise<R>, env = new MockActivityEnvironment()): Promise<R> {
  let result!: R
  await env.run(async () => {
    result = await fn()
  })
  return result
}

const input = { runId: 'r1', locationId: 'us-east', trigger: 'api' as const, timeoutSeconds: 60 }
const until = async (cond: () => boolean) => {
  const deadline = Date.now() + 5000
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('executeK6', () => {
  it('starts nothing when the run\'s secrets grant is refused, and stores uploads only for its own run', async () => {
    const { k6, spawnK6 } = fakeSpawn()
    const refused = Object.assign(new Error('the run\'s secrets grant expired before a runner took the run'), { type: 'SecretsGrantExpired' })
    const { activities, env, running, workRoot } = await setup(spawnK6, 5000, { ...SPEC, secrets: { TOKEN: 'x' } }, {
      redeemSecrets: async () => {
        throw refused
      },
    })
    await expect(env.run(activities.executeK6, input)).rejects.toBe(refused)
    expect(k6.cwd).toBeUndefined()
    expect(running).toEqual([])
    expect((await readdir(workRoot)).filter((n) => n.startsWith('run-'))).toEqual([])
  })

  it('heartbeats sequenced console lines with its runner, spools the files and stores them when asked', async () => {
    const { k6, spawnK6 } = fakeSpawn()
    const { activities, env, heartbeats, objects, running, store, workRoot } = await setup(spawnK6)
    const done = env.run(activities.executeK6, input)
    await until(() => k6.cwd !== undefined)
    k6.line('hello')
    k6.line('world')
    await until(() => heartbeats.some((h) => h.lastSeq === 2))
    await writeFile(path.join(k6.cwd!, 'summary.json'), '{}')
    k6.exit({ code: 0, signal: null })
    const outcome = (await done) as K6Outcome
    expect(running).toEqual(['r1'])
    expect(outcome).toMatchObject({ exitCode: 0, reason: 'exited', consoleLines: 2, runner: RUNNER })
    expect(heartbeats.find((h) => h.lastSeq === 2)).toMatchObject({ runner: RUNNER, k6Started: true })
    expect(heartbeats.find((h) => h.lastSeq === 2)?.lines.map((l) => l.text)).toEqual(['hello', 'world'])
    // Nothing is uploaded by the k6 activity: the run's directory is its spool until storeArtifacts.
    expect(objects.size).toBe(0)
    const artifacts = await store()
    expect(objects.get(artifactKey('r1', 'console.log'))?.toString()).toBe('hello\nworld\n')
    expect(objects.has(artifactKey('r1', 'summary.json'))).toBe(true)
    // The stored record names the object by its key, in artifactKey's documented format.
    expect(artifacts.summary?.key).toBe('runs/r1/summary.json')
    expect((await readdir(workRoot)).filter((n) => n.startsWith('run-r1-'))).toHaveLength(1)
    await inActivity(() => activities.releaseRun({ runId: 'r1' }))
    expect((await readdir(workRoot)).filter((n) => n.startsWith('run-r1-'))).toEqual([])
    // k6 sees none of the platform's environment.
    expect(Object.keys(k6.env!).filter((k) => /DATABASE|S3_|TEMPORAL/.test(k))).toEqual([])
  })

  it('stops k6 with SIGINT on cancellation and escalates to SIGKILL after the grace period', async () => {
    const { k6, spawnK6 } = fakeSpawn((fake, sig) => {
      if (sig === 'SIGKILL') fake.exit({ code: null, signal: 'SIGKILL' })
    })
    const { activities, env } = await setup(spawnK6, 100)
    const done = env.run(activities.executeK6, input)
    await until(() => k6.cwd !== undefined)
    env.cancel()
    const outcome = (await done) as K6Outcome
    expect(k6.signals).toEqual(['SIGINT', 'SIGKILL'])
    expect(outcome).toMatchObject({ reason: 'cancelled', exitCode: null, signal: 'SIGKILL' })
  })

  it('blocks private targets, passes variables and secrets as environment and masks secrets in heartbeats, files and the error text', async () => {
    const secret = 'hunter2-very-secret'
    let emit: (stream: 'stdout' | 'stderr', text: string) => void = () => {}
    let exit!: (e: K6Exit) => void
    let cwd = ''
    let k6Env: Record<string, string> = {}
    let k6Args: string[] = []
    const spawnK6: SpawnK6 = (opts) => {
      emit = opts.onLine
      cwd = opts.plan.cwd
      k6Env = opts.plan.env
      k6Args = opts.plan.args
      return { pid: 1, exited: new Promise<K6Exit>((r) => (exit = r)), signal() {} }
    }
    const spec = { ...SPEC, env: { BASE_URL: 'http://x', PATH: '/evil', K6_OUT: 'json=/tmp/x' }, secrets: { TOKEN: secret } }
    const { activities, env, heartbeats, objects, store, redeemed } = await setup(spawnK6, 5000, spec)
    const done = env.run(activities.executeK6, input)
    await until(() => cwd !== '')
    // The secrets came through the run's grant, redeemed once just before k6 started.
    expect(redeemed).toEqual(['r1:sg_t'])
    expect(k6Env).toMatchObject({ BASE_URL: 'http://x', TOKEN: secret, PATH: '/usr/bin:/bin' })
    expect(k6Env.K6_OUT).toBeUndefined()
    // Loopback and private ranges are blocked on the command line, where a script cannot lift them.
    expect(k6Args.find((a) => a.startsWith('--blacklist-ip='))).toContain('127.0.0.0/8')
    emit('stdout', `token is ${secret}`)
    emit('stdout', `encoded ${encodeURIComponent(secret)} base url http://x`)
    emit('stderr', `time="t" level=error msg="Error: login failed with ${secret}" hint="script exception"`)
    await until(() => heartbeats.some((h) => h.lastSeq === 3))
    // Nothing in the working directory holds the secret (it travels only in k6's environment).
    for (const f of await readdir(cwd, { recursive: true, withFileTypes: true })) {
      if (f.isFile()) expect((await readFile(path.join(f.parentPath, f.name), 'utf8')).includes(secret), f.name).toBe(false)
    }
    // k6's summary can carry script-chosen names (checks, groups).
    await writeFile(path.join(cwd, 'summary.json'), JSON.stringify({ root_group: { checks: { [`token ${secret}`]: { passes: 1 } } } }))
    // So can the metric frames' tag values (a request name with the token in its query).
    const frame = { v: 1, start: 1_800_000_000_000, end: 1_800_000_001_000, series: [{ metric: 'http_reqs', type: 'counter', tags: { name: `http://x/items?token=${secret}` }, count: 1, sum: 1 }] }
    await writeFile(path.join(cwd, 'metrics.ndjson'), `${JSON.stringify(frame)}\n`)
    exit({ code: 107, signal: null })
    const outcome = (await done) as K6Outcome
    await store()

    const texts = heartbeats.flatMap((h) => h.lines.map((l) => l.text))
    expect(texts).toContain('token is [secret]')
    expect(texts).toContain('encoded [secret] base url http://x')
    expect(JSON.stringify(heartbeats)).not.toContain(secret)
    for (const [key, bytes] of objects) expect(bytes.toString('utf8').includes(secret), key).toBe(false)
    expect(objects.get(artifactKey('r1', 'console.log'))?.toString()).toContain('token is [secret]')
    expect(objects.get(artifactKey('r1', 'summary.json'))?.toString()).toContain('token [secret]')
    // The frames were masked before they were packed: stored gzipped, once, without the secret.
    const frames = gunzipSync(objects.get(artifactKey('r1', 'metrics.ndjson.gz'))!).toString('utf8')
    expect(JSON.parse(frames)).toMatchObject({ series: [{ tags: { name: 'http://x/items?token=[secret]' } }] })
    expect(frames).not.toContain(secret)
    expect(outcome.errorText).toContain('Error: login failed with [secret]')
    expect(JSON.stringify(outcome)).not.toContain(secret)
  })

  it('reports k6 error lines and a spawn failure as the error text', async () => {
    const failing: SpawnK6 = (opts) => {
      opts.onLine('stderr', 'time="t" level=error msg="Error: nope" hint="script exception"')
      return { pid: undefined, exited: Promise.reject(new Error('spawn /fake/k6 ENOENT')), signal() {} }
    }
    const { activities, env } = await setup(failing)
    const outcome = (await env.run(activities.executeK6, input)) as K6Outcome
    expect(outcome.exitCode).toBeNull()
    expect(outcome.errorText).toContain('Error: nope (script exception)')
    expect(outcome.errorText).toContain('could not start k6: spawn /fake/k6 ENOENT')
  })

  it('keeps the first 4000 characters of error text however many error lines k6 prints', async () => {
    const { k6, spawnK6 } = fakeSpawn()
    const { activities, env } = await setup(spawnK6)
    const done = env.run(activities.executeK6, input)
    await until(() => k6.cwd !== undefined)
    for (let i = 1; i <= 10_000; i++) k6.errLine(`time="t" level=error msg="failure number ${i}" source=console`)
    k6.exit({ code: 107, signal: null })
    const outcome = (await done) as K6Outcome
    expect(outcome.consoleLines).toBe(10_000)
    expect(outcome.errorText!.length).toBeLessThanOrEqual(4000)
    expect(outcome.errorText!.startsWith('failure number 1\nfailure number 2\n')).toBe(true)
  })

  it('drops a report it cannot check for secrets and says so in the console', async () => {
    const { k6, spawnK6 } = fakeSpawn()
    const { activities, env, objects, store } = await setup(spawnK6, 5000, { ...SPEC, secrets: { TOKEN: 'hunter2-very-secret' } })
    const done = env.run(activities.executeK6, input)
    await until(() => k6.cwd !== undefined)
    await writeFile(path.join(k6.cwd!, 'report.html'), '<html><body>hunter2-very-secret in a format of the future</body></html>')
    k6.exit({ code: 0, signal: null })
    await done
    await store()
    expect(objects.has(artifactKey('r1', 'report.html'))).toBe(false)
    expect(objects.get(artifactKey('r1', 'console.log'))?.toString()).toMatch(/level=warning msg="the HTML report was not stored: it could not be checked for secrets[^\n]*source=stampede/)
    for (const [key, bytes] of objects) expect(bytes.toString('utf8').includes('hunter2-very-secret'), key).toBe(false)
  })

  it('reads the result from k6\'s summary on the runner, so it is recorded before anything is stored', async () => {
    const { k6, spawnK6 } = fakeSpawn()
    const { activities, env } = await setup(spawnK6)
    const done = env.run(activities.executeK6, input)
    await until(() => k6.cwd !== undefined)
    const summary = {
      root_group: { name: '', path: '', id: 'x', groups: {}, checks: {} },
      metrics: { http_reqs: { type: 'counter', contains: 'default', values: {}, count: 7, rate: 3.5 }, http_req_duration: { avg: 12, 'p(95)': 20, thresholds: { 'p(95)<10': true } } },
    }
    await writeFile(path.join(k6.cwd!, 'summary.json'), JSON.stringify(summary))
    k6.exit({ code: 99, signal: null })
    const outcome = (await done) as K6Outcome
    expect(outcome.result?.metrics).toMatchObject({ httpReqs: 7, httpReqDurationAvg: 12, httpReqDurationP95: 20 })
    expect(outcome.result?.thresholds).toEqual([{ metric: 'http_req_duration', expression: 'p(95)<10', ok: false, actual: 20 }])
    expect(outcome.result?.problem).toBeNull()
  })

  it('lets k6 run on when Temporal gives up on the activity, and awaitK6 follows it to its own end', async () => {
    const { k6, spawnK6 } = fakeSpawn()
    const { activities, env, heartbeats } = await setup(spawnK6)
    const done = env.run(activities.executeK6, input)
    await until(() => k6.cwd !== undefined)
    k6.line('before the outage')
    await until(() => heartbeats.some((h) => h.lastSeq === 1))
    // The heartbeat timeout passed while Temporal was unreachable.
    env.cancel('TIMED_OUT')
    await expect(done).rejects.toThrow()
    expect(k6.signals).toEqual([])
    const again = new MockActivityEnvironment()
    const followed: K6Heartbeat[] = []
    again.on('heartbeat', (d: unknown) => followed.push(d as K6Heartbeat))
    const awaited = inActivity(() => activities.awaitK6({ runId: 'r1' }), again)
    await until(() => followed.some((h) => h.lastSeq >= 1))
    k6.line('after the outage')
    await until(() => followed.some((h) => h.lines.some((l) => l.text === 'after the outage')))
    k6.exit({ code: 0, signal: null })
    const outcome = (await awaited)!
    expect(outcome).toMatchObject({ reason: 'exited', exitCode: 0, runner: RUNNER })
    expect(outcome.recovered).toBeTruthy()
    // Asked again later (the answer was lost too), it answers from the spooled outcome.
    expect(await inActivity(() => activities.awaitK6({ runId: 'r1' }))).toMatchObject({ reason: 'exited', exitCode: 0 })
  })

  it('after a restart, reports a run that died with its runner and stores only its console', async () => {
    const { spawnK6 } = fakeSpawn()
    const { activities, objects, store, workRoot } = await setup(spawnK6)
    // What a killed runner leaves: run.json, a console cut mid-line, k6's files (not masked yet).
    const base = path.join(workRoot, 'run-r1-abc123')
    await mkdir(path.join(base, 'k6'), { recursive: true })
    await writeFile(path.join(base, 'run.json'), JSON.stringify({ runId: 'r1', startedAt: '2026-01-01T00:00:00.000Z' }))
    const line = (seq: number, time: string) => JSON.stringify({ seq, stream: 'stdout', text: `line ${seq}`, time })
    await writeFile(path.join(base, 'console.ndjson'), `${line(1, '2026-01-01T00:00:01.000Z')}\n${line(2, '2026-01-01T00:00:05.000Z')}\n{"seq":3,"str`)
    await writeFile(path.join(base, 'console.log'), 'line 1\nline 2\n')
    await writeFile(path.join(base, 'k6', 'summary.json'), '{"half')
    const awaitK6 = (runId: string) => inActivity(() => activities.awaitK6({ runId }))
    const outcome = (await awaitK6('r1'))!
    expect(outcome).toMatchObject({ reason: 'runner_lost', consoleLines: 2, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:05.000Z' })
    expect(outcome.errorText).toContain('console up to then (2 lines) is kept')
    const artifacts = await store()
    expect(Object.keys(artifacts)).toEqual(['log'])
    expect(objects.has(artifactKey('r1', 'summary.json'))).toBe(false)
    expect(objects.get(artifactKey('r1', 'console.log'))?.toString()).toBe('line 1\nline 2\n')
    expect(await awaitK6('nothing-here')).toBeNull()
  })

  describe('caps held at run time', () => {
    /** A k6 REST API that reports `statuses` in turn (the last one repeats) and records resumes. */
    function fakeControl(statuses: Partial<K6Status>[]) {
      const calls = { resumes: 0, polls: 0 }
      const control: K6Control = {
        address: '127.77.9.9:6565',
        async status() {
          const s = statuses[Math.min(calls.polls++, statuses.length - 1)]!
          return { status: 4, paused: true, vus: 0, vusMax: 1, running: false, ...s }
        },
        async resume() {
          calls.resumes++
        },
      }
      return { control: () => control, calls }
    }

    it('stops k6 before any load when it initialised more VUs than the cap, and never resumes it', async () => {
      const { k6, spawnK6 } = fakeSpawn((fake, sig) => sig === 'SIGKILL' && fake.exit({ code: null, signal: 'SIGKILL' }))
      const { control, calls } = fakeControl([{ status: 1 }, { status: 4, paused: true, vusMax: 10 }])
      const { activities, env } = await setup(spawnK6, 5000, SPEC, { control, capCheckMs: 10 })
      const outcome = (await env.run(activities.executeK6, input)) as K6Outcome
      expect(k6.signals).toEqual(['SIGKILL'])
      expect(calls.resumes).toBe(0)
      expect(outcome.reason).toBe('limit')
      expect(outcome.errorText).toContain('The script started 10 VUs at run time; this project allows at most 5. k6 was stopped before sending any load.')
    })

    it('resumes k6 within the cap and stops it when its VUs grow past the cap', async () => {
      const { k6, spawnK6 } = fakeSpawn((fake, sig) => sig === 'SIGINT' && fake.exit({ code: 105, signal: null }))
      const { control, calls } = fakeControl([{ status: 4, paused: true, vusMax: 5 }, { status: 7, paused: false, vusMax: 5 }, { status: 7, paused: false, vusMax: 6 }])
      const { activities, env } = await setup(spawnK6, 5000, SPEC, { control, capCheckMs: 10 })
      const outcome = (await env.run(activities.executeK6, input)) as K6Outcome
      expect(calls.resumes).toBe(1)
      expect(k6.signals).toEqual(['SIGINT'])
      expect(outcome).toMatchObject({ reason: 'limit', exitCode: 105 })
      expect(outcome.errorText).toContain('The script reached 6 VUs while running; this project allows at most 5. The run was stopped.')
    })

    it('stops k6 when the run goes past the duration cap after the load started', async () => {
      const { k6, spawnK6 } = fakeSpawn((fake, sig) => sig === 'SIGINT' && fake.exit({ code: 105, signal: null }))
      const { control, calls } = fakeControl([{ status: 4, paused: true, vusMax: 1 }, { status: 7, paused: false, vusMax: 1 }])
      const spec = { ...SPEC, caps: { ...CAPS, maxDurationSeconds: 1 } }
      const { activities, env } = await setup(spawnK6, 5000, spec, { control, capCheckMs: 10, durationAllowanceSeconds: 0 })
      const startedAt = Date.now()
      const outcome = (await env.run(activities.executeK6, input)) as K6Outcome
      expect(calls.resumes).toBe(1)
      expect(k6.signals).toEqual(['SIGINT'])
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000)
      expect(outcome.reason).toBe('limit')
      expect(outcome.errorText).toContain("The run went on past 1 s, this project's duration cap (plus 0 s for setup() and teardown()); it was stopped.")
    })

    it('stops k6 once its console log passes the log limit', async () => {
      const { k6, spawnK6 } = fakeSpawn((fake, sig) => sig === 'SIGINT' && fake.exit({ code: 105, signal: null }))
      const { activities, env, objects, store } = await setup(spawnK6, 5000, SPEC, { maxLogBytes: 10_000 })
      const done = env.run(activities.executeK6, input)
      await until(() => k6.cwd !== undefined)
      for (let i = 0; i < 1000 && k6.signals.length === 0; i++) k6.line(`line ${i} ${'x'.repeat(100)}`)
      const outcome = (await done) as K6Outcome
      await store()
      expect(outcome.reason).toBe('limit')
      expect(outcome.errorText).toContain("k6's console output passed 10 KB (K6_MAX_LOG_MB)")
      expect(objects.get(artifactKey('r1', 'console.log'))!.length).toBeLessThan(10_000 + 1000)
    })

    it('names the memory limit when k6 ran out of memory', async () => {
      const { k6, spawnK6 } = fakeSpawn()
      const { activities, env } = await setup(spawnK6)
      const done = env.run(activities.executeK6, input)
      await until(() => k6.cwd !== undefined)
      k6.errLine('fatal error: runtime: out of memory')
      k6.exit({ code: 2, signal: null })
      const outcome = (await done) as K6Outcome
      expect(outcome.reason).toBe('limit')
      expect(outcome.errorText).toContain('k6 ran out of memory: it may use at most 1 GB (K6_RUN_MEMORY_MB)')
    })
  })
})
