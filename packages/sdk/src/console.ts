// followConsole: a run's live console as an async iterator that survives disconnects. It keeps
// a cursor (the highest seq delivered, lines and announced gaps alike) and reconnects with
// `after=<cursor>`, dropping anything at or below it, so every line is delivered exactly once.
import { consoleMessageSchema, type ConsoleMessage } from '@stampede/shared/console'
import { StampedeConsoleError } from './errors.ts'
import { messageText, type WebSocketLike } from './websocket.ts'

/** What the iterator yields: console lines, gaps, status changes, and finally `end`. */
export type ConsoleEvent = Exclude<ConsoleMessage, { type: 'error' }>
export type ConsoleLineEvent = Extract<ConsoleEvent, { type: 'line' }>

export interface FollowConsoleOptions {
  /** Deliver lines after this seq (0: from the start). */
  after?: number
  signal?: AbortSignal
  /** Consecutive failed connections before giving up with StampedeConsoleError (default 20). */
  maxReconnectAttempts?: number
  /** First reconnect delay; doubles per failure up to 5 s (default 250 ms). */
  reconnectDelayMs?: number
  /** Called with each socket as it is opened, e.g. to close it from a test. */
  onSocket?: (socket: WebSocketLike) => void
  /** Called before each reconnect. */
  onReconnect?: (info: { attempt: number; after: number; reason: string }) => void
}

type Item = { kind: 'message'; message: ConsoleMessage } | { kind: 'closed'; code: number; reason: string; opened: boolean } | { kind: 'aborted' }

export type OpenSocket = (url: string) => Promise<WebSocketLike>

/** One connection as a pull queue of messages, ending with `closed` (or `aborted`). */
async function connect(open: OpenSocket, url: string, signal: AbortSignal | undefined, onSocket: FollowConsoleOptions['onSocket']) {
  const queue: Item[] = []
  let wake: (() => void) | undefined
  const push = (item: Item) => {
    queue.push(item)
    wake?.()
  }
  let opened = false
  let done = false
  const socket = await open(url)
  const onAbort = () => push({ kind: 'aborted' })
  signal?.addEventListener('abort', onAbort, { once: true })
  socket.onopen = () => {
    opened = true
  }
  socket.onmessage = (event) => {
    const parsed = consoleMessageSchema.safeParse(safeJson(messageText(event.data)))
    push(parsed.success ? { kind: 'message', message: parsed.data } : { kind: 'message', message: { type: 'error', message: `unreadable console message: ${messageText(event.data).slice(0, 200)}` } })
  }
  socket.onclose = (event) => push({ kind: 'closed', code: event.code, reason: event.reason, opened })
  // An error is always followed by close; the close carries what we need.
  socket.onerror = () => {}
  onSocket?.(socket)
  return {
    async next(): Promise<Item> {
      for (;;) {
        const item = queue.shift()
        if (item) return item
        await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
      }
    },
    close() {
      if (done) return
      done = true
      signal?.removeEventListener('abort', onAbort)
      socket.onmessage = null
      if (socket.readyState <= 1) socket.close(1000)
    },
  }
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const sleep = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, ms)
    function done() {
      signal?.removeEventListener('abort', abort)
      resolve()
    }
    function abort() {
      clearTimeout(timer)
      reject(signal?.reason as Error)
    }
    signal?.addEventListener('abort', abort, { once: true })
  })

export async function* followConsoleWith(open: OpenSocket, consoleUrl: (after: number) => string, opts: FollowConsoleOptions = {}): AsyncGenerator<ConsoleEvent, void, undefined> {
  const { signal, maxReconnectAttempts = 20, reconnectDelayMs = 250 } = opts
  let cursor = opts.after ?? 0
  let failures = 0
  for (;;) {
    signal?.throwIfAborted()
    const conn = await connect(open, consoleUrl(cursor), signal, opts.onSocket)
    let serverError: string | undefined
    let progressed = false
    let reason: string
    try {
      for (;;) {
        const item = await conn.next()
        if (item.kind === 'aborted') throw signal?.reason ?? new Error('aborted')
        if (item.kind === 'closed') {
          // The server refused (unknown run, bad cursor): retrying cannot help. 1011 means the
          // console was momentarily unavailable, which a retry may fix.
          if (serverError !== undefined && item.code !== 1011) throw new StampedeConsoleError(serverError)
          reason = serverError ?? (item.opened ? `connection closed (${item.code}${item.reason ? ` ${item.reason}` : ''})` : `could not connect (${item.code})`)
          break
        }
        const m = item.message
        if (m.type === 'error') {
          serverError = m.message
          continue
        }
        progressed = true
        if (m.type === 'line') {
          if (m.seq <= cursor) continue
          cursor = m.seq
          yield m
        } else if (m.type === 'gap') {
          if (m.to <= cursor) continue
          const from = Math.max(m.from, cursor + 1)
          cursor = m.to
          yield { ...m, from }
        } else if (m.type === 'end') {
          yield m
          return
        } else {
          yield m
        }
      }
    } finally {
      conn.close()
    }
    failures = progressed ? 1 : failures + 1
    if (failures > maxReconnectAttempts) throw new StampedeConsoleError(`console of the run lost after ${maxReconnectAttempts} reconnect attempts: ${reason}`)
    opts.onReconnect?.({ attempt: failures, after: cursor, reason })
    await sleep(Math.min(reconnectDelayMs * 2 ** (failures - 1), 5000), signal)
  }
}
