// A client of Node's inspector protocol over its WebSocket (the `Debugger listening on ws://…`
// address a process started with --inspect prints on stderr): reads a process's heap from the
// outside, with no test hook in the product. Only the Runtime and HeapProfiler methods below are
// used; the Debugger domain is never enabled (it would keep every script's source).
import WebSocket from 'ws'
import type { ApiMemory } from './api-process.ts'

interface Pending {
  resolve: (result: unknown) => void
  reject: (err: Error) => void
}

interface EvaluateResult {
  result: { value?: unknown }
  exceptionDetails?: { text: string; exception?: { description?: string } }
}

/** `Debugger listening on ws://127.0.0.1:9229/<uuid>` → the WebSocket address, if the line is that one. */
export function inspectorUrl(line: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1]
}

export class InspectorSession {
  private next = 1
  private readonly pending = new Map<number, Pending>()
  private closed: Error | undefined

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } }
      if (message.id === undefined) return
      const p = this.pending.get(message.id)
      this.pending.delete(message.id)
      if (!p) return
      if (message.error) p.reject(new Error(`inspector: ${message.error.message}`))
      else p.resolve(message.result)
    })
    ws.on('close', () => {
      this.closed = new Error('inspector: the connection closed')
      for (const p of this.pending.values()) p.reject(this.closed)
      this.pending.clear()
    })
  }

  static async connect(url: string, timeoutMs = 10_000): Promise<InspectorSession> {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return new InspectorSession(ws)
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.closed) return Promise.reject(this.closed)
    const id = this.next++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject })
      this.ws.send(JSON.stringify({ id, method, params }))
    })
  }

  /** The value of `expression` in the process's main context (returned by value: JSON-able results only). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send<EvaluateResult>('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })
    if (r.exceptionDetails) throw new Error(`inspector: ${expression} threw: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`)
    return r.result.value as T
  }

  memoryUsage(): Promise<ApiMemory> {
    return this.evaluate<string>('JSON.stringify(process.memoryUsage())').then((s) => JSON.parse(s) as ApiMemory)
  }

  /** Bytes used in each space of V8's heap (v8.getHeapSpaceStatistics()). */
  async heapSpaces(): Promise<Record<string, number>> {
    const pairs = await this.evaluate<[string, number][]>("process.getBuiltinModule('v8').getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size])")
    return Object.fromEntries(pairs)
  }

  /**
   * process.memoryUsage() after full garbage collections, at least `minPasses` of them (default 1)
   * and then until the heap stops shrinking (objects freed by one pass may free more in the
   * next), with a pause between passes for finalizers and released sockets. First drops the console
   * messages the inspector itself keeps for a debugger that may attach (with --inspect, V8
   * stores up to 1,000 of the process's console.log calls, arguments included): memory of the
   * measuring instrument, not the product's. `trace` receives heapUsed after each pass.
   */
  async gcAndMeasure(opts: { minPasses?: number; trace?: (heapUsed: number[]) => void } = {}): Promise<ApiMemory> {
    await this.send('Runtime.discardConsoleEntries')
    let last = Infinity
    let m: ApiMemory | undefined
    const seen: number[] = []
    for (let i = 0; i < Math.max(10, opts.minPasses ?? 0); i++) {
      await this.send('HeapProfiler.collectGarbage')
      await new Promise((resolve) => setTimeout(resolve, 100))
      m = await this.memoryUsage()
      seen.push(m.heapUsed)
      if (i + 1 >= (opts.minPasses ?? 0) && m.heapUsed >= last - 64 * 1024) break
      last = m.heapUsed
    }
    opts.trace?.(seen)
    return m!
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve())
      this.ws.close()
    })
  }
}
