// The k6 activity against a fake k6 process (the narrow spawn boundary): heartbeats carry
// sequenced console chunks, cancellation stops k6 with SIGINT, then SIGKILL after the grace.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { MockActivityEnvironment } from '@temporalio/testing'
import { describe, expect, it } from 'vitest'
import type { ConsoleChunk } from '@stampede/shared'
import type { Storage, StoredObject } from '@stampede/storage'
import type { K6Outcome } from '@stampede/shared/temporal'
import type { K6Exit, SpawnK6 } from '../k6/process.ts'
import { createK6Activities } from './k6.ts'
import type { RunSpec } from './run-spec.ts'

function memoryStorage() {
  const objects = new Map<string, Buffer>()
  const storage: Partial<Storage> = {
    async putFile(key: string, file: string): Promise<StoredObject> {
      const { readFile } = await import('node:fs/promises')
      const bytes = await readFile(file)
      objects.set(key, bytes)
      return { key, bytes: bytes.length, sha256: 'x' }
    },
  }
  return { storage: storage as Storage, objects }
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
    k6.cwd = opts.cwd
    k6.env = opts.env
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

async function setup(spawnK6: SpawnK6, stopGraceMs = 5000, spec: RunSpec = { script: 'export default function () {}', env: {}, secrets: {}, allowlist: [] }) {
  const workRoot = await mkdtemp(path.join(os.tmpdir(), 'k6-activity-'))
  const { storage, objects } = memoryStorage()
  const running: string[] = []
  const activities = createK6Activities({
    spawnK6,
    storage,
    runs: { loadRun: async () => spec, markRunning: async (id) => void running.push(id) },
    k6BinPath: '/fake/k6',
    allowLoopbackTargets: false,
    workRoot,
    stopGraceMs,
    heartbeatIntervalMs: 20,
  })
  const env = new MockActivityEnvironment()
  const heartbeats: ConsoleChunk[] = []
  env.on('heartbeat', (d: unknown) => heartbeats.push(d as ConsoleChunk))
  return { activities, env, heartbeats, objects, running }
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
  it('heartbeats sequenced console lines and uploads the log', async () => {
    const { k6, spawnK6 } = fakeSpawn()
    const { activities, env, heartbeats, objects, running } = await setup(spawnK6)
    const done = env.run(activities.executeK6, input)
    await until(() => k6.cwd !== undefined)
    k6.line('hello')
    k6.line('world')
    await until(() => heartbeats.some((h) => h.lastSeq === 2))
    await writeFile(path.join(k6.cwd!, 'summary.json'), '{}')
    k6.exit({ code: 0, signal: null })
    const outcome = (await done) as K6Outcome
    expect(running).toEqual(['r1'])
    expect(outcome).toMatchObject({ exitCode: 0, reason: 'exited', consoleLines: 2 })
    expect(heartbeats.find((h) => h.lastSeq === 2)?.lines.map((l) => l.text)).toEqual(['hello', 'world'])
    expect(objects.get('runs/r1/console.log')?.toString()).toBe('hello\nworld\n')
    expect(objects.has('runs/r1/summary.json')).toBe(true)
    expect(outcome.artifacts.summary?.key).toBe('runs/r1/summary.json')
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
      cwd = opts.cwd
      k6Env = opts.env
      k6Args = opts.args
      return { pid: 1, exited: new Promise<K6Exit>((r) => (exit = r)), signal() {} }
    }
    const spec = { script: 'export default function () {}', env: { BASE_URL: 'http://x', PATH: '/evil', K6_OUT: 'json=/tmp/x' }, secrets: { TOKEN: secret }, allowlist: [] }
    const { activities, env, heartbeats, objects } = await setup(spawnK6, 5000, spec)
    const done = env.run(activities.executeK6, input)
    await until(() => cwd !== '')
    expect(k6Env).toMatchObject({ BASE_URL: 'http://x', TOKEN: secret, PATH: '/usr/local/bin:/usr/bin:/bin' })
    expect(k6Env.K6_OUT).toBeUndefined()
    // Loopback and private ranges are blocked on the command line, where a script cannot lift them.
    expect(k6Args.find((a) => a.startsWith('--blacklist-ip='))).toContain('127.0.0.0/8')
    emit('stdout', `token is ${secret}`)
    emit('stdout', `encoded ${encodeURIComponent(secret)} base url http://x`)
    emit('stderr', `time="t" level=error msg="Error: login failed with ${secret}" hint="script exception"`)
    await until(() => heartbeats.some((h) => h.lastSeq === 3))
    // Nothing in the working directory holds the secret (it travels only in k6's environment).
    for (const f of await readdir(cwd)) expect((await readFile(path.join(cwd, f), 'utf8')).includes(secret), f).toBe(false)
    // k6's summary can carry script-chosen names (checks, groups).
    await writeFile(path.join(cwd, 'summary.json'), JSON.stringify({ root_group: { checks: { [`token ${secret}`]: { passes: 1 } } } }))
    exit({ code: 107, signal: null })
    const outcome = (await done) as K6Outcome

    const texts = heartbeats.flatMap((h) => h.lines.map((l) => l.text))
    expect(texts).toContain('token is [secret]')
    expect(texts).toContain('encoded [secret] base url http://x')
    expect(JSON.stringify(heartbeats)).not.toContain(secret)
    for (const [key, bytes] of objects) expect(bytes.toString('utf8').includes(secret), key).toBe(false)
    expect(objects.get('runs/r1/console.log')?.toString()).toContain('token is [secret]')
    expect(objects.get('runs/r1/summary.json')?.toString()).toContain('token [secret]')
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
    expect(outcome.errorText).toContain('could not start k6 (/fake/k6): spawn /fake/k6 ENOENT')
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
})
