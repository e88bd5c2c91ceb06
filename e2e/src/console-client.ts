// Viewers of a run's console. followRun / followRunMetrics follow it as a user does, through the
// SDK's followConsole / followMetrics (the one console client: the web app, the CLI and pipelines
// resume the same way), and also keep what came over the wire so that a test can check the server
// sent nothing twice. watchConsole is a bare socket for what only the wire shows.
import WebSocket from 'ws'
import { createStampedeClient, type ConsoleEvent, type MetricsEvent, type WebSocketLike } from '@stampede/sdk'
import { consoleMessageSchema, type ConsoleMessage } from '@stampede/shared'

/** Where the API is and the token that authenticates (the stack's admin token). */
export interface SdkEndpoint {
  apiUrl: string
  token: string
}

export interface ConsoleFollower<E extends { type: string }> {
  /** What the SDK's iterator yielded, in order (each line once, resumed across reconnects). */
  events: E[]
  /** Every message as it came over the wire, on every connection, in order (the SDK's `error` and `reconnect` too). */
  wire: ConsoleMessage[]
  /** Sockets the SDK opened (1 unless it reconnected). */
  readonly connections: number
  /** Why the SDK reconnected, one entry per reconnect. */
  reconnects: string[]
  /** The WebSocket extensions the server accepted on the first connection ('' for none; `ws` offers permessage-deflate). */
  readonly extensions: string
  /** Settles when the iterator ends: after `end`, or when closed; rejects with the SDK's error. */
  done: Promise<void>
  /** The first event (seen or to come) that matches; rejects if the iterator ends or fails first. */
  waitFor(predicate: (e: E) => boolean, timeoutMs?: number): Promise<E>
  /** Stops following (closes the socket) and waits for the iterator to end. */
  close(): Promise<void>
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

interface Hooks {
  signal: AbortSignal
  onSocket: (socket: WebSocketLike) => void
  onReconnect: (info: { reason: string }) => void
}

function follow<E extends { type: string }>(endpoint: SdkEndpoint, iterate: (client: ReturnType<typeof createStampedeClient>, hooks: Hooks) => AsyncIterable<E>, onEvent?: (e: E) => void): ConsoleFollower<E> {
  // `ws`'s client (Node 20 has no global WebSocket): it offers permessage-deflate, as browsers do.
  const client = createStampedeClient({ url: endpoint.apiUrl, token: endpoint.token, WebSocket })
  const abort = new AbortController()
  const events: E[] = []
  const wire: ConsoleMessage[] = []
  const sockets: WebSocketLike[] = []
  const reconnects: string[] = []
  const listeners = new Set<() => void>()
  const notify = () => {
    for (const l of [...listeners]) l()
  }
  let ended: { error?: unknown } | undefined
  const hooks: Hooks = {
    signal: abort.signal,
    onReconnect: ({ reason }) => reconnects.push(reason),
    onSocket: (socket) => {
      sockets.push(socket)
      // The SDK has set its handler: record each message as it came, then hand it on.
      const sdk = socket.onmessage
      socket.onmessage = (event) => {
        const text = String(event.data)
        const parsed = consoleMessageSchema.safeParse(parseJson(text))
        wire.push(parsed.success ? parsed.data : { type: 'error', message: `unreadable console message: ${text.slice(0, 200)}` })
        sdk?.(event)
      }
    },
  }
  const done = (async () => {
    try {
      for await (const e of iterate(client, hooks)) {
        events.push(e)
        onEvent?.(e)
        notify()
      }
      ended = {}
    } catch (err) {
      // Closed by the test: an end, not a failure.
      ended = abort.signal.aborted ? {} : { error: err }
      if (!abort.signal.aborted) throw err
    } finally {
      notify()
    }
  })()
  // A failure surfaces where the test awaits done or waitFor, not as an unhandled rejection.
  done.catch(() => {})
  return {
    events,
    wire,
    get connections() {
      return sockets.length
    },
    reconnects,
    get extensions() {
      return (sockets[0] as unknown as WebSocket | undefined)?.extensions ?? ''
    },
    done,
    waitFor(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check)
          reject(new Error(`no matching console event within ${timeoutMs} ms (got ${events.length}: ${events.map((e) => e.type).join(' ').slice(-300)})`))
        }, timeoutMs)
        function check() {
          const hit = events.find(predicate)
          if (!hit && !ended) return
          clearTimeout(timer)
          listeners.delete(check)
          if (hit) resolve(hit)
          else reject(ended?.error ?? new Error(`the console ended without a matching event (got ${events.length}: ${events.map((e) => e.type).join(' ').slice(-300)})`))
        }
        listeners.add(check)
        check()
      })
    },
    async close() {
      abort.abort(new Error('closed by the test'))
      await done
    },
  }
}

/** The run's console through the SDK's followConsole (lines after `after`; `metrics`: its frames too). */
export function followRun(endpoint: SdkEndpoint, runId: string, opts: { after?: number; metrics?: boolean | { after: number }; onEvent?: (e: ConsoleEvent) => void } = {}): ConsoleFollower<ConsoleEvent> {
  const { onEvent, ...rest } = opts
  return follow(endpoint, (client, hooks) => client.followConsole(runId, { ...rest, ...hooks }), onEvent)
}

/** The run's metric frames through the SDK's followMetrics (frames after the period start `after`). */
export function followRunMetrics(endpoint: SdkEndpoint, runId: string, opts: { after?: number; onEvent?: (e: MetricsEvent) => void } = {}): ConsoleFollower<MetricsEvent> {
  const { onEvent, ...rest } = opts
  return follow(endpoint, (client, hooks) => client.followMetrics(runId, { ...rest, ...hooks }), onEvent)
}

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

/**
 * One bare socket, never resumed. Raw on purpose: for what only the wire shows (access refusals
 * with their `error` and close, which the SDK turns into a thrown error) and for the benchmark's
 * hundreds of cheap viewers (bench/console-fanout.ts). Follow a run as a user does with followRun.
 * `metrics`: also receive metric frames after this period start (0: all of them).
 */
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
