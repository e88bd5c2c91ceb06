// The live console of one run: a WebSocket that feeds a ConsoleBuffer. A dropped connection is
// reopened with `after=<resume point>` (backing off up to 10 s) until the server sends `end`; the
// resume point is before the first gap, so that gaps are still filled (`fill`) from the stored
// log. The server's `reconnect` (the API restarting) is such a drop, never an end. An `error`
// message (unknown run, unreadable console) stops the feed and leaves the retry to the reader:
// retrying such errors automatically would loop; only an error the server closes with 1011
// (momentarily unavailable, e.g. its database) is retried.
// With `metrics`, the same socket carries the run's metric frames (one per second), resumed by
// period (`metrics=<start of the newest frame held>`) like lines by seq.
import { consoleMessageSchema, type ConsoleMessage } from '@stampede/shared/console'
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

const MAX_BACKOFF_MS = 10_000

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
  #socket: WebSocket | undefined
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #frame: number | undefined
  #backoffMs = 500
  #stopped = true
  /** An `error` message on the current connection, acted on when it closes. */
  #serverError: string | undefined

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
    this.#stopped = false
    this.error = null
    this.#connect('connecting')
    return () => this.stop()
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#retryTimer)
    if (this.#frame !== undefined) cancelAnimationFrame(this.#frame)
    this.#frame = undefined
    this.#publish()
    this.#socket?.close(1000)
    this.#socket = undefined
    if (this.connection !== 'ended' && this.connection !== 'failed') this.connection = 'closed'
  }

  /** After a final error: try again from where the console stopped. */
  retry(): void {
    this.stop()
    this.start()
  }

  #connect(state: 'connecting' | 'reconnecting'): void {
    this.connection = state
    const socket = new WebSocket(this.#metrics ? this.#socketUrl(this.runId, this.#buffer.resumeAfter, this.#metricsAfter()) : this.#socketUrl(this.runId, this.#buffer.resumeAfter))
    this.#socket = socket
    this.#serverError = undefined
    socket.onopen = () => {
      if (this.#socket === socket) this.connection = 'live'
    }
    socket.onmessage = (event) => {
      if (this.#socket !== socket) return
      this.#backoffMs = 500
      let raw: unknown
      try {
        raw = JSON.parse(String(event.data))
      } catch {
        return
      }
      const message = consoleMessageSchema.safeParse(raw)
      if (message.success) this.#handle(message.data)
    }
    socket.onclose = (event) => {
      if (this.#socket !== socket) return
      this.#socket = undefined
      if (this.#stopped || this.connection === 'ended') return
      if (this.#serverError !== undefined && event.code !== 1011) {
        this.error = this.#serverError
        this.connection = 'failed'
        return
      }
      this.connection = 'reconnecting'
      this.#retryTimer = setTimeout(() => this.#connect('reconnecting'), this.#backoffMs)
      this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS)
    }
  }

  /** The start of the newest frame held (0: none yet). */
  #metricsAfter(): number {
    return this.#pendingFrames.at(-1)?.start ?? this.frames.at(-1)?.start ?? 0
  }

  #handle(message: ConsoleMessage): void {
    switch (message.type) {
      case 'metrics': {
        const after = this.#metricsAfter()
        const fresh = message.frames.filter((f) => f.start > after)
        if (fresh.length === 0) return
        this.#pendingFrames.push(...fresh)
        this.#schedulePublish()
        return
      }
      case 'lines':
        if (this.#buffer.addLines(message.lines) > 0) this.#schedulePublish()
        return
      case 'gap':
        this.#buffer.addGap(message.from, message.to, message.reason)
        this.#schedulePublish()
        return
      case 'fill':
        if (this.#buffer.addFill(message.from, message.to, message.lines) > 0) this.#schedulePublish()
        return
      case 'status': {
        const { type: _, ...status } = message
        this.live = status
        return
      }
      case 'reconnect':
        // The API is stopping and closes this socket next: show it as a reconnect, come back soon.
        this.connection = 'reconnecting'
        return
      case 'end':
        this.#buffer.finish(message.lastSeq, 'these lines were not received before the console ended')
        this.#publish()
        this.ended = { status: message.status, lastSeq: message.lastSeq }
        this.live = { status: message.status, waitingForRunner: false }
        this.connection = 'ended'
        this.#onEnd(message.status)
        return
      case 'error':
        // Final unless the server closes with 1011 (see onclose).
        this.#serverError = message.message
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
