// The k6 activity against a fake k6 process (the narrow spawn boundary): heartbeats carry
// sequenced console chunks, cancellation stops k6 with SIGINT, then SIGKILL after the grace.
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { MockActivityEnvironment } from '@temporalio/testing'
import { describe, expect, it } from 'vitest'
import type { ConsoleChunk } from '@stampede/shared'
import type { Storage, StoredObject } from '@stampede/storage'
import type { K6Outcome } from '@stampede/shared/temporal'
import type { K6Exit, SpawnK6 } from '../k6/process.ts'
import { createK6Activities } from './k6.ts'

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
  exit(exit: K6Exit): void
  cwd?: string
  env?: Record<string, string>
}

function fakeSpawn(onSignal?: (k6: FakeK6, sig: NodeJS.Signals) => void) {
  const k6: FakeK6 = { signals: [], line: () => {}, exit: () => {} }
  const spawnK6: SpawnK6 = (opts) => {
    k6.cwd = opts.cwd
    k6.env = opts.env
    let resolveExit!: (e: K6Exit) => void
    const exited = new Promise<K6Exit>((r) => (resolveExit = r))
    k6.line = (text) => opts.onLine('stdout', text)
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

async function setup(spawnK6: SpawnK6, stopGraceMs = 5000) {
  const workRoot = await mkdtemp(path.join(os.tmpdir(), 'k6-activity-'))
  const { storage, objects } = memoryStorage()
  const running: string[] = []
  const activities = createK6Activities({
    spawnK6,
    storage,
    runs: { loadScript: async () => 'export default function () {}', markRunning: async (id) => void running.push(id) },
    k6BinPath: '/fake/k6',
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
})
