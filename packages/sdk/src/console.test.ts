import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createStampedeClient } from './client.ts'
import type { ConsoleMessage } from '@stampede/shared/console'
import type { ConsoleEvent } from './console.ts'
import { StampedeConsoleError } from './errors.ts'

let server: WebSocketServer | undefined
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

/** A console server that, per connection, replays from a bit before `after` (overlap) in `lines` messages of 5 and drops the socket mid-way. */
async function fakeConsole(total: number, perConnection: number) {
  const afters: number[] = []
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  server.on('connection', (socket, req) => {
    const after = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after'))
    afters.push(after)
    const from = Math.max(1, after - 3) // resend a few lines the client already has
    const to = Math.min(total, after + perConnection)
    for (let start = from; start <= to; start += 5) {
      const lines = Array.from({ length: Math.min(5, to - start + 1) }, (_, i) => ({ seq: start + i, stream: 'stdout', text: `line ${start + i}`, time: new Date().toISOString() }))
      socket.send(JSON.stringify({ type: 'lines', lines }))
    }
    if (to === total) {
      socket.send(JSON.stringify({ type: 'end', status: 'passed', lastSeq: total }))
      socket.close(1000)
    } else socket.terminate() // an abrupt drop, as a network failure would cause
  })
  await new Promise((resolve) => server!.once('listening', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, afters }
}

const linesMsg = (...seqs: number[]): ConsoleMessage => ({ type: 'lines', lines: seqs.map((seq) => ({ seq, stream: 'stdout' as const, text: `line ${seq}`, time: '2026-01-01T00:00:00.000Z' })) })
const gapMsg = (from: number, to: number): ConsoleMessage => ({ type: 'gap', from, to, reason: 'no longer held by the live relay', log: { runId: 'run-1', artifact: 'log' } })
const fillMsg = (from: number, to: number, seqs = Array.from({ length: to - from + 1 }, (_, i) => from + i)): ConsoleMessage => ({
  type: 'fill',
  from,
  to,
  lines: seqs.map((seq) => ({ seq, stream: 'stdout' as const, text: `line ${seq}`, time: '2026-01-01T00:00:00.000Z' })),
})

/** A console server that plays one script per connection: messages, then how the socket ends. */
async function scripted(connections: Array<{ send: ConsoleMessage[]; close: number | 'drop' }>) {
  const afters: number[] = []
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  server.on('connection', (socket, req) => {
    afters.push(Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after')))
    const script = connections[afters.length - 1]
    if (!script) return socket.close(1011)
    for (const m of script.send) socket.send(JSON.stringify(m))
    if (script.close === 'drop') socket.terminate()
    else socket.close(script.close)
  })
  await new Promise((resolve) => server!.once('listening', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, afters }
}

/** Every seq the caller got, from lines and fills, in the order it got them. */
const held = (events: ConsoleEvent[]) => events.flatMap((e) => (e.type === 'lines' || e.type === 'fill' ? e.lines.map((l) => l.seq) : []))
/** The seqs of the `lines` events (lines past the cursor), in the order they came. */
const fresh = (events: ConsoleEvent[]) => events.flatMap((e) => (e.type === 'lines' ? e.lines.map((l) => l.seq) : []))

describe('followConsole', () => {
  it('reconnects after drops and delivers every line exactly once, in order', async () => {
    const fake = await fakeConsole(50, 12)
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const events: ConsoleEvent[] = []
    for await (const e of client.followConsole('run-1', { reconnectDelayMs: 10 })) events.push(e)
    const seqs = fresh(events)
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'passed' })
    expect(fake.afters).toEqual([0, 12, 24, 36, 48])
  })

  it('starts after the given seq', async () => {
    const fake = await fakeConsole(20, 100)
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const seqs: number[] = []
    for await (const e of client.followConsole('run-1', { after: 15 })) if (e.type === 'lines') seqs.push(...e.lines.map((l) => l.seq))
    expect(seqs).toEqual([16, 17, 18, 19, 20])
  })

  it('throws StampedeConsoleError when the server refuses the run', async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    server.on('connection', (socket) => {
      socket.send(JSON.stringify({ type: 'error', message: 'run run-1 does not exist' }))
      socket.close(1000)
    })
    await new Promise((resolve) => server!.once('listening', resolve))
    const client = createStampedeClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, WebSocket })
    const iterate = async () => {
      for await (const _ of client.followConsole('run-1')) void _
    }
    await expect(iterate()).rejects.toThrow(StampedeConsoleError)
    await expect(iterate()).rejects.toThrow('run run-1 does not exist')
  })

  it('gives up with StampedeConsoleError when nothing answers', async () => {
    const client = createStampedeClient({ url: 'http://127.0.0.1:9', WebSocket })
    const iterate = async () => {
      for await (const _ of client.followConsole('run-1', { maxReconnectAttempts: 2, reconnectDelayMs: 5 })) void _
    }
    await expect(iterate()).rejects.toThrow(/lost after 2 reconnect attempts/)
  })

  it('treats the server\'s reconnect (the API restarting) as a reconnect, never as an end', async () => {
    const fake = await scripted([
      { send: [linesMsg(1, 2), { type: 'reconnect', reason: 'the API is restarting' }], close: 1012 },
      { send: [linesMsg(2, 3), { type: 'end', status: 'passed', lastSeq: 3 }], close: 1000 },
    ])
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const events: ConsoleEvent[] = []
    const reasons: string[] = []
    for await (const e of client.followConsole('run-1', { reconnectDelayMs: 5, onReconnect: ({ reason }) => reasons.push(reason) })) events.push(e)
    expect(events.map((e) => e.type)).toEqual(['lines', 'lines', 'end'])
    expect(held(events)).toEqual([1, 2, 3])
    expect(fake.afters).toEqual([0, 2])
    expect(reasons).toEqual([expect.stringContaining('the API is restarting')])
  })

  it('passes fills of announced gaps through, each line once', async () => {
    const fake = await scripted([
      { send: [linesMsg(1), gapMsg(2, 4), linesMsg(5), { type: 'status', status: 'passed', waitingForRunner: false }, fillMsg(2, 4), fillMsg(2, 4), { type: 'end', status: 'passed', lastSeq: 5 }], close: 1000 },
    ])
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const events: ConsoleEvent[] = []
    for await (const e of client.followConsole('run-1')) events.push(e)
    expect(events.map((e) => e.type)).toEqual(['lines', 'gap', 'lines', 'status', 'fill', 'end'])
    expect(events[4]).toMatchObject({ type: 'fill', from: 2, to: 4 })
    expect(held(events)).toEqual([1, 5, 2, 3, 4])
  })

  it('resumes before an open gap after a drop, so the gap is still filled, and delivers each line exactly once', async () => {
    const fake = await scripted([
      // 3..5 are announced missing; the connection drops before they are filled.
      { send: [linesMsg(1, 2), gapMsg(3, 5), linesMsg(6, 7)], close: 'drop' },
      // A relay that holds only 7 onwards re-announces 3..6, then fills it (in two parts) from the archive.
      { send: [gapMsg(3, 6), linesMsg(7, 8), fillMsg(3, 4), linesMsg(9)], close: 'drop' },
      // A relay with the archive replays from before the rest of the gap as lines.
      { send: [linesMsg(5, 6, 7), linesMsg(9, 10), fillMsg(5, 5), { type: 'end', status: 'passed', lastSeq: 10 }], close: 1000 },
    ])
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const events: ConsoleEvent[] = []
    for await (const e of client.followConsole('run-1', { reconnectDelayMs: 5 })) events.push(e)
    expect(fake.afters).toEqual([0, 2, 4])
    expect([...held(events)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(events.filter((e) => e.type === 'gap').map((e) => [e.from, e.to])).toEqual([[3, 5]])
    expect(events.filter((e) => e.type === 'fill').map((e) => [e.from, e.to])).toEqual([
      [3, 4],
      [5, 5],
    ])
    // Lines after the cursor still come in seq order.
    expect(fresh(events)).toEqual([1, 2, 6, 7, 8, 9, 10])
    expect(events.at(-1)).toMatchObject({ type: 'end', lastSeq: 10 })
  })
})

describe('followConsole options for a long-lived viewer (the web app)', () => {
  it('reports connecting, live and reconnecting (from the server\'s reconnect on), once per change', async () => {
    const fake = await scripted([
      { send: [linesMsg(1), { type: 'reconnect', reason: 'the API is restarting' }], close: 1012 },
      { send: [linesMsg(2)], close: 'drop' },
      { send: [{ type: 'end', status: 'passed', lastSeq: 2 }], close: 1000 },
    ])
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const log: string[] = []
    for await (const e of client.followConsole('run-1', { reconnectDelayMs: 5, onConnection: (state) => log.push(state), onReconnect: () => log.push('onReconnect') })) log.push(e.type)
    // The server's `reconnect` shows as reconnecting at once; the close after it is the same reconnect.
    expect(log).toEqual(['connecting', 'live', 'lines', 'reconnecting', 'onReconnect', 'live', 'lines', 'reconnecting', 'onReconnect', 'live', 'end'])
  })

  it('does not report reconnecting before a final error', async () => {
    const fake = await scripted([{ send: [{ type: 'error', message: 'run run-1 does not exist' }], close: 1000 }])
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const states: string[] = []
    const iterate = async () => {
      for await (const _ of client.followConsole('run-1', { onConnection: (state) => states.push(state) })) void _
    }
    await expect(iterate()).rejects.toThrow('run run-1 does not exist')
    expect(states).toEqual(['connecting', 'live'])
  })

  it('keeps trying with maxReconnectAttempts Infinity, its delays capped by maxReconnectDelayMs', async () => {
    // 25 refused connections (more than the default 20 attempts), then the console.
    const refusals = Array.from({ length: 25 }, () => ({ send: [{ type: 'error', message: 'console unavailable' }] as ConsoleMessage[], close: 1011 }))
    const fake = await scripted([...refusals, { send: [linesMsg(1), { type: 'end', status: 'passed', lastSeq: 1 }], close: 1000 }])
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const started = Date.now()
    const events: ConsoleEvent[] = []
    // Uncapped, 25 doublings of 1 ms would wait for days; capped at 20 ms, 25 waits take about half a second.
    for await (const e of client.followConsole('run-1', { maxReconnectAttempts: Infinity, reconnectDelayMs: 1, maxReconnectDelayMs: 20 })) events.push(e)
    expect(fake.afters).toHaveLength(26)
    expect(held(events)).toEqual([1])
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('stops at once when aborted while waiting to reconnect, without opening another socket', async () => {
    const fake = await scripted([{ send: [linesMsg(1)], close: 'drop' }])
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const abort = new AbortController()
    const iterate = async () => {
      for await (const _ of client.followConsole('run-1', { signal: abort.signal, reconnectDelayMs: 60_000, onReconnect: () => abort.abort(new Error('left the page')) })) void _
    }
    await expect(iterate()).rejects.toThrow('left the page')
    expect(fake.afters).toEqual([0])
  })
})

const frameMsg = (...starts: number[]): ConsoleMessage => ({
  type: 'metrics',
  frames: starts.map((start, i) => ({ v: 1, seq: i, start, end: start + 1000, mapping: { kind: 'log', gamma: 1.008 }, series: [{ metric: 'http_reqs', type: 'counter', count: 1, sum: 1 }] })),
})

describe('followMetrics', () => {
  it('asks for frames after the last period it holds on every reconnect, and yields each period once', async () => {
    const metricsAfters: (string | null)[] = []
    const connections: Array<{ send: ConsoleMessage[]; close: number | 'drop' }> = [
      { send: [frameMsg(1000, 2000, 3000)], close: 'drop' },
      // The server resends a period the client has (an overlap): it is dropped.
      { send: [frameMsg(3000, 4000), { type: 'end', status: 'passed', lastSeq: 0 }], close: 1000 },
    ]
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    server.on('connection', (socket, req) => {
      const params = new URL(req.url ?? '/', 'http://x').searchParams
      metricsAfters.push(params.get('metrics'))
      const script = connections[metricsAfters.length - 1]
      if (!script) return socket.close(1011)
      for (const m of script.send) socket.send(JSON.stringify(m))
      if (script.close === 'drop') socket.terminate()
      else socket.close(script.close)
    })
    await new Promise((resolve) => server!.once('listening', resolve))
    const client = createStampedeClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, WebSocket })
    const starts: number[] = []
    let ended = false
    for await (const e of client.followMetrics('run-1', { reconnectDelayMs: 5 })) {
      if (e.type === 'metrics') starts.push(...e.frames.map((f) => f.start))
      if (e.type === 'end') ended = true
    }
    expect(starts).toEqual([1000, 2000, 3000, 4000])
    expect(ended).toBe(true)
    expect(metricsAfters).toEqual(['0', '3000'])
  })

  it('followConsole does not ask for frames unless told to', async () => {
    const fake = await scripted([{ send: [frameMsg(1000), linesMsg(1), { type: 'end', status: 'passed', lastSeq: 1 }], close: 1000 }])
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const events: ConsoleEvent[] = []
    for await (const e of client.followConsole('run-1')) events.push(e)
    expect(events.map((e) => e.type)).toEqual(['lines', 'end'])
  })
})
