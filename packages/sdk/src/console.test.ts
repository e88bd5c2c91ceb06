import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createStampedeClient } from './client.ts'
import type { ConsoleEvent } from './console.ts'
import { StampedeConsoleError } from './errors.ts'

let server: WebSocketServer | undefined
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

/** A console server that, per connection, replays from a bit before `after` (overlap) and drops the socket mid-way. */
async function fakeConsole(total: number, perConnection: number) {
  const afters: number[] = []
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  server.on('connection', (socket, req) => {
    const after = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after'))
    afters.push(after)
    const from = Math.max(1, after - 3) // resend a few lines the client already has
    const to = Math.min(total, after + perConnection)
    for (let seq = from; seq <= to; seq++) socket.send(JSON.stringify({ type: 'line', seq, stream: 'stdout', text: `line ${seq}`, time: new Date().toISOString() }))
    if (to === total) {
      socket.send(JSON.stringify({ type: 'end', status: 'passed', lastSeq: total }))
      socket.close(1000)
    } else socket.terminate() // an abrupt drop, as a network failure would cause
  })
  await new Promise((resolve) => server!.once('listening', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, afters }
}

describe('followConsole', () => {
  it('reconnects after drops and delivers every line exactly once, in order', async () => {
    const fake = await fakeConsole(50, 12)
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const events: ConsoleEvent[] = []
    for await (const e of client.followConsole('run-1', { reconnectDelayMs: 10 })) events.push(e)
    const seqs = events.flatMap((e) => (e.type === 'line' ? [e.seq] : []))
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'passed' })
    expect(fake.afters).toEqual([0, 12, 24, 36, 48])
  })

  it('starts after the given seq', async () => {
    const fake = await fakeConsole(20, 100)
    const client = createStampedeClient({ url: fake.url, WebSocket })
    const seqs: number[] = []
    for await (const e of client.followConsole('run-1', { after: 15 })) if (e.type === 'line') seqs.push(e.seq)
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
})
