// The SDK against the real platform (Temporal dev server, Postgres, S3, runner, real k6) aimed at
// a target on 127.0.0.1: start, follow, wait, cancel, and a console that survives forced drops.
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStampedeClient, StampedeApiError, StampedeConnectionError, type ConsoleEvent, type StampedeClient } from '@stampede/sdk'
import { startStack, type Stack } from '../src/stack.ts'
import { startTarget, type Target } from '../src/target.ts'

let stack: Stack
let target: Target
let client: StampedeClient

beforeAll(async () => {
  target = await startTarget()
  stack = await startStack()
  client = createStampedeClient({ url: stack.apiUrl, token: stack.token })
})
afterAll(async () => {
  await stack?.stop()
  await target?.stop()
})

/** A TCP proxy in front of the API whose connections the test can cut, like a flaky network. */
async function startCuttableProxy(apiUrl: string) {
  const upstream = new URL(apiUrl)
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const up = net.connect(Number(upstream.port), upstream.hostname)
    for (const s of [client, up]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {})
    }
    client.pipe(up).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cutAll: () => {
      for (const s of sockets) s.destroy()
    },
    stop: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    }),
  }
}

describe('SDK', () => {
  it('runScript starts a run, streams its console and resolves with the final passed run', async () => {
    target.reset()
    const script = `
      import http from 'k6/http'
      export const options = { vus: 1, iterations: 10, thresholds: { http_req_failed: ['rate<0.01'] } }
      export default function () { http.get('${target.url}/'); console.log('request ' + __ITER) }`
    const events: ConsoleEvent[] = []
    const run = await client.runScript({ script, location: 'us-east' }, { onEvent: (e) => events.push(e) })
    expect(run.status).toBe('passed')
    expect(run.trigger).toBe('api')
    expect(run.metrics.httpReqs).toBe(10)
    expect(target.count).toBe(10)
    const lines = events.flatMap((e) => (e.type === 'lines' ? e.lines : []))
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: run.consoleLines ?? -1 }, (_, i) => i + 1))
    expect(lines.filter((l) => l.text.includes('request ')).length).toBe(10)
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'passed' })
    expect(await client.waitForRun(run.id)).toEqual(run)
  })

  it('start + waitForRun report crossed thresholds as failed', async () => {
    const script = `
      import http from 'k6/http'
      export const options = { vus: 1, iterations: 3, thresholds: { http_req_duration: ['max<0'] } }
      export default function () { http.get('${target.url}/') }`
    const started = await client.runs.start.mutate({ script, location: 'us-east' })
    const run = await client.waitForRun(started.id, { pollIntervalMs: 250 })
    expect(run).toMatchObject({ status: 'failed', exitCode: 99, thresholdsPassed: false })
  })

  it('aborting runScript cancels the run', async () => {
    const script = `
      import http from 'k6/http'
      import { sleep } from 'k6'
      export const options = { vus: 1, duration: '60s' }
      export default function () { http.get('${target.url}/'); console.log('still going'); sleep(0.2) }`
    const abort = new AbortController()
    const run = await client.runScript({ script, location: 'us-east' }, {
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'lines' && e.lines.some((l) => l.text.includes('still going'))) abort.abort()
      },
    })
    expect(run.status).toBe('cancelled')
    expect(run.finishedAt).not.toBeNull()
  })

  it('followConsole delivers every line exactly once across forced disconnects', async () => {
    const proxy = await startCuttableProxy(stack.apiUrl)
    try {
      const viaProxy = createStampedeClient({ url: proxy.url, token: stack.token })
      const script = `
        import { sleep } from 'k6'
        export const options = { vus: 1, iterations: 1 }
        export default function () { for (let i = 1; i <= 100; i++) { console.log('tick ' + i); sleep(0.05) } }`
      const { id } = await viaProxy.runs.start.mutate({ script, location: 'us-east' })
      const seqs: number[] = []
      const ticks: number[] = []
      let reconnects = 0
      const cutAt = new Set([10, 40, 70])
      for await (const e of viaProxy.followConsole(id, { reconnectDelayMs: 100, onReconnect: () => reconnects++ })) {
        if (e.type === 'gap') throw new Error(`unexpected gap ${e.from}-${e.to}`)
        if (e.type !== 'lines') continue
        for (const line of e.lines) {
          seqs.push(line.seq)
          const tick = /tick (\d+)/.exec(line.text)
          if (tick) {
            ticks.push(Number(tick[1]))
            if (cutAt.delete(Number(tick[1]))) proxy.cutAll()
          }
        }
      }
      expect(reconnects).toBeGreaterThanOrEqual(3)
      const run = await client.waitForRun(id)
      expect(run.status).toBe('passed')
      expect(seqs).toEqual(Array.from({ length: run.consoleLines ?? -1 }, (_, i) => i + 1))
      expect(ticks).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    } finally {
      await proxy.stop()
    }
  })

  it('throws typed errors: refused input, unknown run, unreachable API', async () => {
    const refused = await client.runs.start.mutate({ script: 'x', location: 'mars-north' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(StampedeApiError)
    expect(refused).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400, path: 'runs.start' })
    const missing = await client.runs.byId.query({ id: crypto.randomUUID() }).catch((e: unknown) => e)
    expect(missing).toMatchObject({ name: 'StampedeApiError', code: 'NOT_FOUND' })
    const down = createStampedeClient({ url: 'http://127.0.0.1:9' })
    await expect(down.locations.list.query()).rejects.toBeInstanceOf(StampedeConnectionError)
  })
})
