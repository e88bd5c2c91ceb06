// On Node the SDK's console socket is `ws`'s even where Node has a global WebSocket (22+): only
// `ws` sends the Authorization header the console needs for a token. Elsewhere (browsers) the
// global one is used. Checked by the URL and headers each class receives.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { webSocketFactory } from './websocket.ts'

const original = (globalThis as { WebSocket?: unknown }).WebSocket
const originalProcess = globalThis.process
afterEach(() => {
  ;(globalThis as { WebSocket?: unknown }).WebSocket = original
  globalThis.process = originalProcess
})

class FakeGlobal {
  static made: unknown[][] = []
  readyState = 0
  onopen = null
  onmessage = null
  onclose = null
  onerror = null
  constructor(...args: unknown[]) {
    FakeGlobal.made.push(args)
  }
  close() {}
}

describe('webSocketFactory', () => {
  it('uses ws on Node even when a global WebSocket exists, so the token header is sent', async () => {
    ;(globalThis as { WebSocket?: unknown }).WebSocket = FakeGlobal
    FakeGlobal.made = []
    const make = await webSocketFactory(undefined)()
    const socket = make('ws://127.0.0.1:9/console', { authorization: 'Bearer t' })
    socket.onerror = () => {}
    expect(socket).toBeInstanceOf(WebSocket)
    expect(FakeGlobal.made).toEqual([])
    socket.close()
  })

  it('uses the global WebSocket outside Node (a browser)', async () => {
    ;(globalThis as { WebSocket?: unknown }).WebSocket = FakeGlobal
    FakeGlobal.made = []
    // A browser has no process.versions.node.
    globalThis.process = { ...originalProcess, versions: {} } as unknown as NodeJS.Process
    const make = await webSocketFactory(undefined)()
    make('wss://stampede.example/console', { authorization: 'Bearer t' })
    expect(FakeGlobal.made).toHaveLength(1)
    expect(FakeGlobal.made[0]![0]).toBe('wss://stampede.example/console')
  })

  it('uses the class it is given', async () => {
    FakeGlobal.made = []
    const make = await webSocketFactory(FakeGlobal)()
    make('ws://x/console', {})
    expect(FakeGlobal.made).toHaveLength(1)
  })
})
