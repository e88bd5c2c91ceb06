// The feed against a real WebSocket server speaking the console protocol: what a viewer sees
// when the connection drops mid-run and the server replays lines it already sent, when gaps
// are filled from the stored log, and when the API restarts (`reconnect`). The feed drives the
// SDK's console iterator with the page's global WebSocket, which here is `ws`'s client.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws'
import type { ConsoleMessage } from '@stampede/shared/console'
import { ConsoleFeed } from './console-feed.svelte.ts'
import { ConsoleBuffer } from './console-buffer.ts'

const RUN = '11111111-1111-4111-8111-111111111111'
const lines = (...seqs: number[]): ConsoleMessage => ({ type: 'lines', lines: seqs.map((seq) => ({ seq, stream: 'stdout' as const, text: `line ${seq}`, time: '2026-01-01T00:00:00.000Z' })) })
const gap = (from: number, to: number): ConsoleMessage => ({ type: 'gap', from, to, reason: 'no longer held by the live relay', log: { runId: RUN, artifact: 'log' } })
const fill = (from: number, to: number, seqs: number[]): ConsoleMessage => ({
  type: 'fill',
  from,
  to,
  lines: seqs.map((seq) => ({ seq, stream: 'stdout' as const, text: `line ${seq}`, time: '2026-01-01T00:00:00.000Z' })),
})

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

let server: WebSocketServer
let port: number
let feed: ConsoleFeed | undefined

beforeEach(async () => {
  // Node 20 has no global WebSocket or requestAnimationFrame; the browser provides both.
  globalThis.WebSocket = NodeWebSocket as unknown as typeof WebSocket
  globalThis.requestAnimationFrame = (cb) => setTimeout(() => cb(Date.now()), 0) as unknown as number
  globalThis.cancelAnimationFrame = (id) => clearTimeout(id)
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  port = (server.address() as { port: number }).port
})

afterEach(async () => {
  feed?.stop()
  feed = undefined
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const socketUrl = (runId: string, after: number) => `ws://127.0.0.1:${port}/ws/runs/${runId}/console?after=${after}`
const text = (f: ConsoleFeed) => f.entries.map((e) => (e.kind === 'line' ? e.seq : `gap ${e.from}-${e.to}`))

describe('ConsoleFeed', () => {
  it('reconnects after a dropped connection from the last seq and shows each line once', async () => {
    const requested: string[] = []
    let ended: string | undefined
    server.on('connection', (socket, req) => {
      const after = Number(new URL(req.url ?? '', 'http://x').searchParams.get('after'))
      requested.push(`after=${after}`)
      const send = (m: ConsoleMessage) => socket.send(JSON.stringify(m))
      if (requested.length === 1) {
        send({ type: 'status', status: 'running', waitingForRunner: false })
        send(lines(1, 2, 3))
        setTimeout(() => socket.terminate(), 50) // an abrupt drop, not a clean close
      } else {
        // The relay replays from its overlap window: 2 and 3 again, then new lines and a gap.
        send(lines(2, 3, 4))
        send({ type: 'gap', from: 5, to: 6, reason: 'no longer held by the live relay', log: { runId: RUN, artifact: 'log' } })
        send(lines(7))
        send({ type: 'end', status: 'passed', lastSeq: 7 })
        socket.close(1000)
      }
    })

    feed = new ConsoleFeed(RUN, { socketUrl, onEnd: (status) => (ended = status) })
    feed.start()

    await until(() => feed!.connection === 'ended', 'the end message')
    expect(requested).toEqual(['after=0', 'after=3'])
    expect(text(feed)).toEqual([1, 2, 3, 4, 'gap 5-6', 7])
    expect(ended).toBe('passed')
    expect(feed.live).toEqual({ status: 'passed', waitingForRunner: false })

    // Ended means ended: nothing connects within a window longer than the first retry (500 ms).
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect(requested).toHaveLength(2)
  })

  it('stops on an error message instead of retrying forever', async () => {
    let connections = 0
    server.on('connection', (socket) => {
      connections++
      socket.send(JSON.stringify({ type: 'error', message: `run ${RUN} does not exist` } satisfies ConsoleMessage))
      socket.close(1000)
    })

    feed = new ConsoleFeed(RUN, { socketUrl })
    feed.start()

    await until(() => feed!.connection === 'failed', 'the error')
    expect(feed.error).toBe(`run ${RUN} does not exist`)
    // Longer than the first retry (500 ms) would wait.
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect(connections).toBe(1)
  })

  it('puts filled lines in place of their gap, keeping what the log lacks a gap', async () => {
    server.on('connection', (socket) => {
      const send = (m: ConsoleMessage) => socket.send(JSON.stringify(m))
      send(lines(1))
      send(gap(2, 6))
      send(lines(7))
      send(fill(2, 6, [2, 3, 5, 6]))
      send(fill(2, 6, [2, 3])) // a repeat changes nothing
      send({ type: 'end', status: 'passed', lastSeq: 7 })
      socket.close(1000)
    })

    feed = new ConsoleFeed(RUN, { socketUrl })
    feed.start()

    await until(() => feed!.connection === 'ended', 'the end message')
    expect(text(feed)).toEqual([1, 2, 3, 'gap 4-4', 5, 6, 7])
    expect(feed.entries.filter((e) => e.kind === 'line').map((e) => (e.kind === 'line' ? e.text : ''))).toEqual(['line 1', 'line 2', 'line 3', 'line 5', 'line 6', 'line 7'])
  })

  it('reconnects when the API restarts, from before an open gap, and has every line once', async () => {
    const requested: string[] = []
    let second: { send: (m: ConsoleMessage) => void; close: () => void } | undefined
    server.on('connection', (socket, req) => {
      requested.push(`after=${new URL(req.url ?? '', 'http://x').searchParams.get('after')}`)
      const send = (m: ConsoleMessage) => socket.send(JSON.stringify(m))
      if (requested.length === 1) {
        send({ type: 'status', status: 'running', waitingForRunner: false })
        send(lines(1, 2))
        send(gap(3, 4))
        send(lines(5))
        send({ type: 'reconnect', reason: 'the API is restarting' })
        socket.close(1012)
      } else {
        // The restarted API has the stored log: the gap's lines come as lines.
        send(lines(3, 4, 5, 6))
        send({ type: 'status', status: 'running', waitingForRunner: false, runnerSilentSeconds: 7 })
        second = { send, close: () => socket.close(1000) }
      }
    })

    feed = new ConsoleFeed(RUN, { socketUrl })
    feed.start()

    await until(() => feed!.live?.runnerSilentSeconds === 7, 'the silent runner')
    expect(requested).toEqual(['after=0', 'after=2'])
    expect(feed.connection).toBe('live')
    expect(feed.ended).toBeNull()
    second!.send({ type: 'status', status: 'running', waitingForRunner: false })
    await until(() => feed!.live?.runnerSilentSeconds === undefined, 'the runner heard again')
    second!.send({ type: 'end', status: 'passed', lastSeq: 6 })
    second!.close()
    await until(() => feed!.connection === 'ended', 'the end message')
    expect(text(feed)).toEqual([1, 2, 3, 4, 5, 6])
    expect(feed.error).toBeNull()
  })

  it('retries when the console is momentarily unavailable (an error closed with 1011)', async () => {
    let connections = 0
    server.on('connection', (socket) => {
      connections++
      const send = (m: ConsoleMessage) => socket.send(JSON.stringify(m))
      if (connections === 1) {
        send({ type: 'error', message: 'console unavailable: internal error 7f3c09a1b2c4d5e6' })
        socket.close(1011)
      } else {
        send(lines(1))
        send({ type: 'end', status: 'passed', lastSeq: 1 })
        socket.close(1000)
      }
    })

    feed = new ConsoleFeed(RUN, { socketUrl })
    feed.start()

    await until(() => feed!.connection === 'ended', 'the end message')
    expect(connections).toBe(2)
    expect(feed.error).toBeNull()
    expect(text(feed)).toEqual([1])
  })
})

describe('ConsoleFeed connection and metrics', () => {
  const frames = (...starts: number[]): ConsoleMessage => ({
    type: 'metrics',
    frames: starts.map((start, i) => ({ v: 1, seq: i, start, end: start + 1000, mapping: { kind: 'log', gamma: 1.008 }, series: [{ metric: 'http_reqs', type: 'counter', count: 1, sum: 1 }] })),
  })

  it('shows connecting, live and reconnecting, and resumes metric frames by period, each once', async () => {
    const requested: string[] = []
    let first: { close: () => void } | undefined
    server.on('connection', (socket, req) => {
      const params = new URL(req.url ?? '', 'http://x').searchParams
      requested.push(`after=${params.get('after')} metrics=${params.get('metrics')}`)
      const send = (m: ConsoleMessage) => socket.send(JSON.stringify(m))
      if (requested.length === 1) {
        send(lines(1, 2))
        send(frames(1000, 2000))
        send({ type: 'reconnect', reason: 'the API is restarting' })
        first = { close: () => socket.close(1012) }
      } else {
        // An overlap: the period 2000 again.
        send(frames(2000, 3000))
        send(lines(3))
        send({ type: 'end', status: 'passed', lastSeq: 3 })
        socket.close(1000)
      }
    })
    const socketUrlWithMetrics = (runId: string, after: number, metricsAfter?: number) => `${socketUrl(runId, after)}&metrics=${metricsAfter}`

    feed = new ConsoleFeed(RUN, { socketUrl: socketUrlWithMetrics, metrics: true })
    feed.start()
    expect(feed.connection).toBe('connecting')
    // The server's `reconnect` shows before its socket closes.
    await until(() => feed!.connection === 'reconnecting', 'the reconnect message')
    expect(requested).toHaveLength(1)
    await until(() => feed!.frames.length === 2, 'the first frames')
    first!.close()
    await until(() => feed!.connection === 'ended', 'the end message')
    expect(requested).toEqual(['after=0 metrics=0', 'after=2 metrics=2000'])
    expect(feed.frames.map((f) => f.start)).toEqual([1000, 2000, 3000])
    expect(text(feed)).toEqual([1, 2, 3])
  })

  it('stopped while waiting to reconnect, connects no more; retry resumes where it stopped', async () => {
    const requested: string[] = []
    server.on('connection', (socket, req) => {
      requested.push(`after=${new URL(req.url ?? '', 'http://x').searchParams.get('after')}`)
      const send = (m: ConsoleMessage) => socket.send(JSON.stringify(m))
      if (requested.length === 1) {
        send(lines(1, 2))
        setTimeout(() => socket.terminate(), 20)
      } else {
        send(lines(2, 3))
        send({ type: 'end', status: 'passed', lastSeq: 3 })
        socket.close(1000)
      }
    })

    feed = new ConsoleFeed(RUN, { socketUrl })
    feed.start()
    await until(() => feed!.connection === 'reconnecting', 'the drop')
    feed.stop()
    expect(feed.connection).toBe('closed')
    expect(text(feed)).toEqual([1, 2])
    // Longer than the first retry (500 ms) would wait.
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect(requested).toEqual(['after=0'])
    expect(feed.connection).toBe('closed')

    feed.retry()
    await until(() => feed!.connection === 'ended', 'the end message')
    expect(requested).toEqual(['after=0', 'after=2'])
    expect(text(feed)).toEqual([1, 2, 3])
  })
})

// The buffer's fill in isolation (console-buffer.test.ts covers lines and gaps): against a
// plain model, over many gap layouts and partial fills.
describe('ConsoleBuffer.addFill', () => {
  it('holds exactly the lines received or filled, each once, with gaps for the rest of announced ranges', () => {
    let state = 7
    const next = (n: number) => (state = (state * 1103515245 + 12345) % 2 ** 31) % n
    for (let round = 0; round < 200; round++) {
      const buffer = new ConsoleBuffer()
      const have = new Set<number>()
      const announced = new Set<number>()
      const last = 5 + next(40)
      for (let seq = 1; seq <= last; seq++) {
        if (next(3) === 0) {
          const to = Math.min(last, seq + next(5))
          buffer.addGap(seq, to, 'lost')
          for (let s = seq; s <= to; s++) announced.add(s)
          seq = to
        } else {
          buffer.addLine({ seq, stream: 'stdout', text: `line ${seq}`, time: '' })
          have.add(seq)
        }
      }
      for (let k = 0; k < 4; k++) {
        const from = 1 + next(last)
        const to = Math.min(last, from + next(12))
        const seqs = Array.from({ length: to - from + 1 }, (_, i) => from + i).filter(() => next(4) > 0)
        const before = have.size
        for (const seq of seqs) have.add(seq)
        const added = buffer.addFill(from, to, [...seqs].reverse().map((seq) => ({ seq, stream: 'stdout' as const, text: `line ${seq}`, time: '' })))
        expect(added).toBe(have.size - before)
      }
      const entries = buffer.entries()
      const lines = entries.flatMap((e) => (e.kind === 'line' ? [e.seq] : []))
      expect(lines).toEqual([...have].sort((a, b) => a - b))
      expect(buffer.lineCount).toBe(have.size)
      const gapSeqs = entries.flatMap((e) => (e.kind === 'gap' ? Array.from({ length: e.to - e.from + 1 }, (_, i) => e.from + i) : []))
      expect(gapSeqs).toEqual([...announced].filter((s) => !have.has(s)).sort((a, b) => a - b))
      // Entries stay sorted and disjoint.
      const bounds = entries.flatMap((e) => (e.kind === 'line' ? [e.seq, e.seq] : [e.from, e.to]))
      expect(bounds).toEqual([...bounds].sort((a, b) => a - b))
      expect(new Set(bounds.filter((_, i) => i % 2 === 0)).size).toBe(entries.length)
    }
  })
})
