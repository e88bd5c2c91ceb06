// The feed against a real WebSocket server speaking the console protocol: what a viewer sees
// when the connection drops mid-run and the server replays lines it already sent.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws'
import type { ConsoleMessage } from '@stampede/shared/console'
import { ConsoleFeed } from './console-feed.svelte.ts'

const RUN = '11111111-1111-4111-8111-111111111111'
const line = (seq: number): ConsoleMessage => ({ type: 'line', seq, stream: 'stdout', text: `line ${seq}`, time: '2026-01-01T00:00:00.000Z' })

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
        ;[1, 2, 3].forEach((seq) => send(line(seq)))
        setTimeout(() => socket.terminate(), 50) // an abrupt drop, not a clean close
      } else {
        // The relay replays from its overlap window: 2 and 3 again, then new lines and a gap.
        ;[2, 3, 4].forEach((seq) => send(line(seq)))
        send({ type: 'gap', from: 5, to: 6, reason: 'no longer held by the live relay', log: { runId: RUN, artifact: 'log' } })
        send(line(7))
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
})
