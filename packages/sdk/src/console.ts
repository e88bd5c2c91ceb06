// followConsole: a run's live console as an async iterator that survives disconnects. It keeps
// a cursor (the highest seq accounted for, lines and announced gaps alike) and the gaps it was
// told about that have not been filled yet. It reconnects with `after=` the cursor, or the seq
// before the first open gap so that the new connection can still fill it, and drops anything it
// already has, so every line is delivered exactly once: in a `lines` event in seq order (the
// server sends a run's new lines as one message per console tick), or later in a `fill` of an
// announced gap. A `reconnect` from the server (the API restarting) is a reconnect,
// never an end.
// With `metrics`, the same connection also carries the run's metric frames (one per second):
// the iterator keeps a second cursor (the start of the newest frame it yielded), asks for frames
// after it on every reconnect, and drops frames it has, so each period is yielded exactly once.
// followMetrics is that stream alone.
// followConsoleWith takes the socket opener and the URL builder from its caller and never reaches
// for `ws` (only webSocketFactory, unused here, imports it, lazily): a browser bundle imports this
// module alone (`@stampede/sdk/console`, as the web app's console feed does) with the page's own
// WebSocket.
import { consoleMessageSchema, type ConsoleLine, type ConsoleMessage } from '@stampede/shared/console'
import { StampedeConsoleError } from './errors.ts'
import { messageText, type WebSocketLike } from './websocket.ts'

/** What the iterator yields: console lines, gaps, fills of earlier gaps, status changes, and finally `end`. */
export type ConsoleEvent = Exclude<ConsoleMessage, { type: 'error' | 'reconnect' }>
/** New console lines (consecutive seqs, ascending, never empty), each after everything yielded before. */
export type ConsoleLinesEvent = Extract<ConsoleEvent, { type: 'lines' }>
/** Lines of an earlier `gap` (from..to lies inside one gap the iterator yielded), in seq order. */
export type ConsoleFillEvent = Extract<ConsoleEvent, { type: 'fill' }>
/** New metric frames (ascending by period start, each period once); only with the `metrics` option. */
export type ConsoleMetricsEvent = Extract<ConsoleEvent, { type: 'metrics' }>

/** The connection as a UI shows it (see FollowConsoleOptions.onConnection). */
export type ConsoleConnectionState = 'connecting' | 'live' | 'reconnecting'

export interface FollowConsoleOptions {
  /** Deliver lines after this seq (0: from the start). */
  after?: number
  signal?: AbortSignal
  /**
   * Consecutive failed connections before giving up with StampedeConsoleError (default 20;
   * `Infinity`: never, e.g. a browser tab that keeps trying until the reader leaves).
   */
  maxReconnectAttempts?: number
  /** First reconnect delay; doubles per failure up to maxReconnectDelayMs (default 250 ms). */
  reconnectDelayMs?: number
  /** The longest reconnect delay (default 5 s). */
  maxReconnectDelayMs?: number
  /**
   * Called when the connection's state changes: `connecting` before the first socket opens,
   * `live` whenever a socket opens, `reconnecting` as soon as a connection is lost (or the server
   * announces its restart) and another will be tried. Not called for the end or a final error:
   * the iterator returns or throws then.
   */
  onConnection?: (state: ConsoleConnectionState) => void
  /** Called with each socket as it is opened, e.g. to close it from a test. */
  onSocket?: (socket: WebSocketLike) => void
  /** Called before each reconnect. */
  onReconnect?: (info: { attempt: number; after: number; reason: string }) => void
  /**
   * Also yield the run's metric frames (`metrics` events): `true` from the first, or
   * `{ after }` with the period start (Unix ms) of the last frame already held.
   */
  metrics?: boolean | { after: number }
}

/** What followMetrics yields: metric frames, status changes, and finally `end`. */
export type MetricsEvent = ConsoleMetricsEvent | Extract<ConsoleEvent, { type: 'status' | 'end' }>

export interface FollowMetricsOptions extends Omit<FollowConsoleOptions, 'metrics' | 'after'> {
  /** Frames after this period start (Unix ms; default: from the first). */
  after?: number
}

type Item = { kind: 'message'; message: ConsoleMessage } | { kind: 'closed'; code: number; reason: string; opened: boolean } | { kind: 'aborted' }

/** Opens a socket to the URL given (followConsoleWith's caller chooses the WebSocket and how it authenticates). */
export type OpenSocket = (url: string) => Promise<WebSocketLike>
export type { WebSocketLike }

/** One connection as a pull queue of messages, ending with `closed` (or `aborted`). */
async function connect(open: OpenSocket, url: string, signal: AbortSignal | undefined, onSocket: FollowConsoleOptions['onSocket'], onOpen: () => void) {
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
  // Aborted while the socket was being made: the listener came too late to hear it.
  if (signal?.aborted) onAbort()
  socket.onopen = () => {
    opened = true
    if (!done) onOpen()
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
    /** Items received and not taken yet. */
    get queued(): number {
      return queue.length
    },
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
    // Aborted already (e.g. from onReconnect): the abort event has been and gone.
    if (signal?.aborted) {
      reject(signal.reason as Error)
      return
    }
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

type Range = { from: number; to: number }

/** What the iterator has accounted for: everything up to `cursor` except the open gaps. */
class Ledger {
  /** Announced gaps not filled yet: sorted, disjoint, all at or below the cursor. */
  private open: Range[] = []
  constructor(public cursor: number) {}

  /** Where a new connection starts: before the first open gap, so it can still be filled. */
  get resumeAfter(): number {
    return this.open.length > 0 ? this.open[0]!.from - 1 : this.cursor
  }

  isOpen(seq: number): boolean {
    return this.open.some((r) => r.from <= seq && seq <= r.to)
  }

  /** A gap above the cursor: returns the part not accounted for yet, or undefined. */
  gap(from: number, to: number): Range | undefined {
    if (to <= this.cursor) return undefined
    const range = { from: Math.max(from, this.cursor + 1), to }
    this.open.push(range)
    this.cursor = to
    return range
  }

  /** Closes [from, to] in the open gaps; returns the parts that were open. */
  take(from: number, to: number): Range[] {
    const taken: Range[] = []
    const rest: Range[] = []
    for (const r of this.open) {
      const lo = Math.max(r.from, from)
      const hi = Math.min(r.to, to)
      if (lo > hi) {
        rest.push(r)
        continue
      }
      taken.push({ from: lo, to: hi })
      if (r.from < lo) rest.push({ from: r.from, to: lo - 1 })
      if (hi < r.to) rest.push({ from: hi + 1, to: r.to })
    }
    this.open = rest
    return taken
  }
}

/** Lines of open gaps that arrived in `lines` (a replay from before a gap) become fills, one per run of consecutive seqs. */
function fillsOf(lines: ConsoleLine[]): ConsoleFillEvent[] {
  const fills: ConsoleFillEvent[] = []
  for (const line of lines) {
    const last = fills.at(-1)
    if (last && line.seq === last.to + 1) {
      last.lines.push(line)
      last.to = line.seq
    } else fills.push({ type: 'fill', from: line.seq, to: line.seq, lines: [line] })
  }
  return fills
}

export async function* followConsoleWith(
  open: OpenSocket,
  consoleUrl: (after: number, metricsAfter?: number) => string,
  opts: FollowConsoleOptions = {},
): AsyncGenerator<ConsoleEvent, void, undefined> {
  const { signal, maxReconnectAttempts = 20, reconnectDelayMs = 250, maxReconnectDelayMs = 5000 } = opts
  // Reported only when it changes (a server's `reconnect` and the close after it are one reconnect).
  let state: ConsoleConnectionState | undefined
  const report = (next: ConsoleConnectionState) => {
    if (next === state) return
    state = next
    opts.onConnection?.(next)
  }
  report('connecting')
  const ledger = new Ledger(opts.after ?? 0)
  // The start of the newest metric frame yielded (undefined: frames not asked for).
  let metricsAfter = opts.metrics === undefined || opts.metrics === false ? undefined : opts.metrics === true ? 0 : opts.metrics.after
  let failures = 0
  for (;;) {
    signal?.throwIfAborted()
    const conn = await connect(open, consoleUrl(ledger.resumeAfter, metricsAfter), signal, opts.onSocket, () => report('live'))
    let serverError: string | undefined
    let restart: string | undefined
    let progressed = false
    let reason: string
    let late: ConsoleLine[] = []
    const takeLate = () => {
      const fills = fillsOf(late)
      late = []
      return fills
    }
    try {
      for (;;) {
        if (late.length > 0 && conn.queued === 0) yield* takeLate()
        const item = await conn.next()
        if (item.kind === 'aborted') throw signal?.reason ?? new Error('aborted')
        if (item.kind === 'closed') {
          yield* takeLate()
          // The server refused (unknown run, bad cursor): retrying cannot help. 1011 means the
          // console was momentarily unavailable, which a retry may fix.
          if (serverError !== undefined && item.code !== 1011) throw new StampedeConsoleError(serverError)
          reason = serverError ?? restart ?? (item.opened ? `connection closed (${item.code}${item.reason ? ` ${item.reason}` : ''})` : `could not connect (${item.code})`)
          break
        }
        const m = item.message
        if (m.type === 'error') {
          serverError = m.message
          continue
        }
        progressed = true
        if (m.type === 'lines') {
          // Lines past the cursor are new; lines inside an open gap (a replay from before it) are
          // late and become fills; anything else was delivered already.
          const fresh: ConsoleLine[] = []
          for (const line of m.lines) {
            if (line.seq > ledger.cursor) {
              fresh.push(line)
              ledger.cursor = line.seq
            } else if (ledger.isOpen(line.seq)) {
              ledger.take(line.seq, line.seq)
              late.push(line)
            }
          }
          if (fresh.length > 0) {
            yield* takeLate()
            yield { type: 'lines', lines: fresh }
          }
          continue
        }
        yield* takeLate()
        if (m.type === 'gap') {
          const fresh = ledger.gap(m.from, m.to)
          if (fresh) yield { ...m, from: fresh.from }
        } else if (m.type === 'fill') {
          for (const r of ledger.take(m.from, m.to)) {
            yield { type: 'fill', from: r.from, to: r.to, lines: m.lines.filter((l) => l.seq >= r.from && l.seq <= r.to) }
          }
        } else if (m.type === 'metrics') {
          if (metricsAfter === undefined) continue
          const after = metricsAfter
          const fresh = m.frames.filter((f) => f.start > after)
          if (fresh.length === 0) continue
          metricsAfter = fresh.at(-1)!.start
          yield { type: 'metrics', frames: fresh }
        } else if (m.type === 'reconnect') {
          // The API is stopping; the socket closes next. Not an end: connect again.
          restart = m.reason
          report('reconnecting')
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
    report('reconnecting')
    opts.onReconnect?.({ attempt: failures, after: ledger.resumeAfter, reason })
    await sleep(Math.min(reconnectDelayMs * 2 ** (failures - 1), maxReconnectDelayMs), signal)
  }
}

/** A run's metric frames as an async iterator (see followConsoleWith): `metrics`, `status` and finally `end`. */
export async function* followMetricsWith(
  open: OpenSocket,
  consoleUrl: (after: number, metricsAfter?: number) => string,
  opts: FollowMetricsOptions = {},
): AsyncGenerator<MetricsEvent, void, undefined> {
  const { after, ...rest } = opts
  // Console lines are skipped: the connection starts after the newest line it could hold.
  for await (const event of followConsoleWith(open, consoleUrl, { ...rest, after: Number.MAX_SAFE_INTEGER, metrics: { after: after ?? 0 } })) {
    if (event.type === 'metrics' || event.type === 'status' || event.type === 'end') yield event
  }
}
