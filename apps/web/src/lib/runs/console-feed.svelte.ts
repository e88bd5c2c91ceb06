// The live console of one run: the SDK's console iterator (@stampede/sdk/console, the one console
// client of the SDK, the CLI and the e2e tests) feeding a ConsoleBuffer. A dropped connection is
// reopened with `after=<resume point>` (backing off up to 10 s, never giving up while the page
// shows the run) until the server sends `end`; the resume point is before the first gap, so that
// gaps are still filled (`fill`) from the stored log. The server's `reconnect` (the API
// restarting) is such a drop, never an end. An `error` message (unknown run, unreadable console)
// stops the feed and leaves the retry to the reader: retrying such errors automatically would
// loop; only an error the server closes with 1011 (momentarily unavailable, e.g. its database) is
// retried.
// With `metrics`, the same socket carries the run's metric frames (one per second), resumed by
// period (`metrics=<start of the newest frame held>`) like lines by seq.
import { followConsoleWith, type ConsoleEvent, type WebSocketLike } from '@stampede/sdk/console'
import type { MetricFrame, RunStatus } from '@stampede/shared'
import { addFrames } from './metrics.ts'
import { consoleSocketUrl } from '../api/client.ts'
import { ConsoleBuffer, type ConsoleEntry } from './console-buffer.ts'

export interface ConsoleFeedOptions {
  /** Called once with the final status when the console ends. */
  onEnd?: (status: RunStatus) => void
  /** The socket URL resuming after a seq (and a metric period); defaults to the configured API's console. */
  socketUrl?: (runId: string, after: number, metricsAfter?: number) => string
  /** Also follow the run's metric frames (`frames`). */
  metrics?: boolean
}

export type FeedConnection = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed' | 'closed'

/** The latest `status` message. */
export interface LiveStatus {
  status: RunStatus
  waitingForRunner: boolean
  /** Set while the run's runner has not been heard from for this many seconds. */
  runnerSilentSeconds?: number
}

const FIRST_BACKOFF_MS = 500
const MAX_BACKOFF_MS = 10_000

/** The page's own WebSocket (the page's cookies authenticate it); looked up at each connection. */
const openSocket = (url: string): Promise<WebSocketLike> => Promise.resolve(new WebSocket(url) as unknown as WebSocketLike)

export class ConsoleFeed {
  entries = $state.raw<ConsoleEntry[]>([])
  connection = $state<FeedConnection>('closed')
  /** The latest `status` message, if any. */
  live = $state<LiveStatus | null>(null)
  /** Set by the `end` message. */
  ended = $state<{ status: RunStatus; lastSeq: number } | null>(null)
  error = $state<string | null>(null)
  /** The run's metric frames so far, one per period, ascending (with the `metrics` option). */
  frames = $state.raw<MetricFrame[]>([])

  readonly #buffer = new ConsoleBuffer()
  readonly #onEnd: (status: RunStatus) => void
  readonly #socketUrl: (runId: string, after: number, metricsAfter?: number) => string
  readonly #metrics: boolean
  #pendingFrames: MetricFrame[] = []
  /** Stops the current iterator (and closes its socket); undefined while stopped. */
  #abort: AbortController | undefined
  #frame: number | undefined

  constructor(
    readonly runId: string,
    options: ConsoleFeedOptions = {},
  ) {
    this.#onEnd = options.onEnd ?? (() => {})
    this.#socketUrl = options.socketUrl ?? consoleSocketUrl
    this.#metrics = options.metrics ?? false
  }

  /** Opens the feed; returns the function that closes it (for `$effect` cleanup). */
  start(): () => void {
    this.#abort?.abort()
    const abort = new AbortController()
    this.#abort = abort
    this.error = null
    void this.#follow(abort.signal)
    return () => this.stop()
  }

  stop(): void {
    this.#abort?.abort()
    this.#abort = undefined
    if (this.#frame !== undefined) cancelAnimationFrame(this.#frame)
    this.#frame = undefined
    this.#publish()
    if (this.connection !== 'ended' && this.connection !== 'failed') this.connection = 'closed'
  }

  /** After a final error: try again from where the console stopped. */
  retry(): void {
    this.stop()
    this.start()
  }

  /** One iterator from where the buffer stands (a retry resumes, it does not start over). */
  async #follow(signal: AbortSignal): Promise<void> {
    const events = followConsoleWith(openSocket, (after, metricsAfter) => this.#socketUrl(this.runId, after, metricsAfter), {
      after: this.#buffer.resumeAfter,
      ...(this.#metrics ? { metrics: { after: this.#metricsAfter() } } : {}),
      signal,
      maxReconnectAttempts: Infinity,
      reconnectDelayMs: FIRST_BACKOFF_MS,
      maxReconnectDelayMs: MAX_BACKOFF_MS,
      onConnection: (state) => {
        if (!signal.aborted) this.connection = state
      },
    })
    try {
      for await (const event of events) {
        // Messages that were queued when the feed stopped are not for it any more.
        if (signal.aborted) return
        this.#handle(event)
      }
    } catch (err) {
      if (signal.aborted) return
      // An `error` from the server (see the header), or a socket that cannot even be made.
      this.error = err instanceof Error ? err.message : String(err)
      this.connection = 'failed'
    } finally {
      if (this.#abort?.signal === signal) this.#abort = undefined
    }
  }

  /** The start of the newest frame held (0: none yet). */
  #metricsAfter(): number {
    return this.#pendingFrames.at(-1)?.start ?? this.frames.at(-1)?.start ?? 0
  }

  #handle(event: ConsoleEvent): void {
    switch (event.type) {
      case 'metrics':
        // The iterator yields each period once, after the `metrics=` the feed started from.
        this.#pendingFrames.push(...event.frames)
        this.#schedulePublish()
        return
      case 'lines':
        if (this.#buffer.addLines(event.lines) > 0) this.#schedulePublish()
        return
      case 'gap':
        this.#buffer.addGap(event.from, event.to, event.reason)
        this.#schedulePublish()
        return
      case 'fill':
        if (this.#buffer.addFill(event.from, event.to, event.lines) > 0) this.#schedulePublish()
        return
      case 'status': {
        const { type: _, ...status } = event
        this.live = status
        return
      }
      case 'end':
        this.#buffer.finish(event.lastSeq, 'these lines were not received before the console ended')
        this.#publish()
        this.ended = { status: event.status, lastSeq: event.lastSeq }
        this.live = { status: event.status, waitingForRunner: false }
        this.connection = 'ended'
        this.#onEnd(event.status)
        return
    }
  }

  // Many lines can arrive per frame; copy the buffer into reactive state at most once a frame.
  #schedulePublish(): void {
    if (this.#frame !== undefined) return
    this.#frame = requestAnimationFrame(() => {
      this.#frame = undefined
      this.#publish()
    })
  }

  #publish(): void {
    this.entries = this.#buffer.entries()
    if (this.#pendingFrames.length > 0) {
      this.frames = addFrames(this.frames, this.#pendingFrames)
      this.#pendingFrames = []
    }
  }
}
