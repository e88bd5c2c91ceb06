// A WebSocket viewer of a run's console, as a browser or the SDK would be.
import WebSocket from 'ws'
import { consoleMessageSchema, type ConsoleMessage } from '@stampede/shared'

export interface ConsoleSession {
  messages: ConsoleMessage[]
  /** Resolves when the server closes the socket. */
  closed: Promise<void>
  close(): void
  /** The WebSocket extensions the server accepted ('' for none; this client offers permessage-deflate). */
  extensions: string
  waitFor(predicate: (m: ConsoleMessage) => boolean, timeoutMs?: number): Promise<ConsoleMessage>
}

/** Where the console is and the headers that authenticate (the stack's API token). */
export interface ConsoleEndpoint {
  wsUrl: string
  wsHeaders?: Record<string, string>
}

/** `metrics`: also receive metric frames after this period start (0: all of them). */
export function watchConsole(endpoint: ConsoleEndpoint, runId: string, after = 0, onMessage?: (m: ConsoleMessage) => void, opts: { metrics?: number } = {}): Promise<ConsoleSession> {
  const query = `after=${after}${opts.metrics === undefined ? '' : `&metrics=${opts.metrics}`}`
  const ws = new WebSocket(`${endpoint.wsUrl}/ws/runs/${runId}/console?${query}`, { headers: endpoint.wsHeaders ?? {} })
  const messages: ConsoleMessage[] = []
  const listeners = new Set<() => void>()
  ws.on('message', (data) => {
    const message = consoleMessageSchema.parse(JSON.parse(String(data)))
    messages.push(message)
    onMessage?.(message)
    for (const l of listeners) l()
  })
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()))
  return new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.once('open', () =>
      resolve({
        messages,
        closed,
        extensions: ws.extensions,
        close: () => ws.close(),
        waitFor(predicate, timeoutMs = 30_000) {
          const hit = messages.find(predicate)
          if (hit) return Promise.resolve(hit)
          return new Promise((res, rej) => {
            const timer = setTimeout(() => {
              listeners.delete(check)
              rej(new Error(`no matching console message within ${timeoutMs} ms (got ${messages.length})`))
            }, timeoutMs)
            const check = () => {
              const m = messages.find(predicate)
              if (!m) return
              clearTimeout(timer)
              listeners.delete(check)
              res(m)
            }
            listeners.add(check)
          })
        },
      }),
    )
  })
}
