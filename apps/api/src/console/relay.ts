// The live console relay. For each run with at least one viewer, ONE poller reads the pending
// executeK6 activity's heartbeat details (console chunks with an overlap window), keeps lines
// it has not seen (by seq) in a bounded per-run buffer and pushes them to every viewer. Each
// viewer has a cursor (last seq it got), so a reconnect with `after` resumes exactly; when the
// buffer no longer holds what a viewer needs it is told the missing range and where the full
// log is. Finished runs are replayed from the archived console.
import type { Client } from '@temporalio/client'
import { arrayFromPayloads, defaultPayloadConverter } from '@temporalio/common'
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect.
import proto from '@temporalio/proto'
import type { Db } from '@stampede/db'
import { artifactKey, CONSOLE_INDEX_FILE, consoleChunkSchema, consoleLineSchema, isTerminal, type ConsoleLine, type ConsoleMessage, type RunStatus } from '@stampede/shared'
import { ACTIVITY, workflowIdFor } from '@stampede/shared/temporal'
import type { Storage } from '@stampede/storage'
const { temporal } = proto
import type { RunnerPresence } from '../runs/presence.ts'

export interface Viewer {
  send(message: ConsoleMessage): void
  close(): void
}

export interface ConsoleRelayOptions {
  db: Db
  temporal: Client
  storage: Storage
  presence: RunnerPresence
  pollMs: number
  /** Lines kept per run for viewers that reconnect. */
  bufferLines?: number
  /** How long a run's buffer outlives its last viewer. */
  lingerMs?: number
}

interface ViewerState {
  viewer: Viewer
  cursor: number
}

interface Feed {
  runId: string
  locationId: string
  viewers: Set<ViewerState>
  buffer: ConsoleLine[]
  lastSeq: number
  status?: { status: RunStatus; waitingForRunner: boolean }
  timer?: NodeJS.Timeout
  lingerTimer?: NodeJS.Timeout
  polling: boolean
  ended: boolean
}

const PENDING_STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED

export class ConsoleRelay {
  private readonly feeds = new Map<string, Feed>()
  private readonly bufferLines: number
  private readonly lingerMs: number
  private stopped = false

  constructor(private readonly opts: ConsoleRelayOptions) {
    this.bufferLines = opts.bufferLines ?? 20_000
    this.lingerMs = opts.lingerMs ?? 60_000
  }

  /** Number of runs being polled now (one per watched run, whatever the viewer count). */
  get activePollers(): number {
    return [...this.feeds.values()].filter((f) => f.polling).length
  }

  /** Attaches a viewer; returns a function that detaches it. */
  async attach(runId: string, after: number, viewer: Viewer): Promise<() => void> {
    const run = await this.opts.db.run.findUnique({ where: { id: runId }, select: { status: true, locationId: true, consoleLines: true } })
    if (!run) {
      viewer.send({ type: 'error', message: `run ${runId} does not exist` })
      viewer.close()
      return () => {}
    }
    const existing = this.feeds.get(runId)
    if (isTerminal(run.status) && !existing) {
      await this.replayArchive(runId, after, viewer, run.status)
      return () => {}
    }
    const feed = existing ?? this.createFeed(runId, run.locationId)
    const state: ViewerState = { viewer, cursor: after }
    feed.viewers.add(state)
    if (feed.lingerTimer) {
      clearTimeout(feed.lingerTimer)
      feed.lingerTimer = undefined
    }
    if (feed.status) viewer.send({ type: 'status', ...feed.status })
    this.deliver(feed, state)
    if (!feed.polling && !feed.ended) this.startPolling(feed)
    return () => this.detach(feed, state)
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const feed of this.feeds.values()) {
      if (feed.timer) clearTimeout(feed.timer)
      if (feed.lingerTimer) clearTimeout(feed.lingerTimer)
      for (const v of feed.viewers) v.viewer.close()
    }
    this.feeds.clear()
  }

  private createFeed(runId: string, locationId: string): Feed {
    const feed: Feed = { runId, locationId, viewers: new Set(), buffer: [], lastSeq: 0, polling: false, ended: false }
    this.feeds.set(runId, feed)
    return feed
  }

  private detach(feed: Feed, state: ViewerState): void {
    feed.viewers.delete(state)
    if (feed.viewers.size > 0) return
    if (feed.timer) clearTimeout(feed.timer)
    feed.timer = undefined
    feed.polling = false
    feed.lingerTimer = setTimeout(() => {
      if (feed.viewers.size === 0) this.feeds.delete(feed.runId)
    }, this.lingerMs)
    feed.lingerTimer.unref()
  }

  private startPolling(feed: Feed): void {
    feed.polling = true
    const tick = async () => {
      if (!feed.polling || this.stopped) return
      try {
        await this.poll(feed)
      } catch (err) {
        // A transient Temporal error must not end the console; the next poll tries again.
        if (!isNotFound(err)) console.warn(`[console] poll of run ${feed.runId} failed: ${(err as Error).message}`)
      }
      if (feed.polling && !feed.ended && !this.stopped) feed.timer = setTimeout(() => void tick(), this.opts.pollMs)
    }
    void tick()
  }

  private async poll(feed: Feed): Promise<void> {
    const handle = this.opts.temporal.workflow.getHandle(workflowIdFor(feed.runId))
    const description = await handle.describe()
    if (description.status.name !== 'RUNNING') {
      await this.finish(feed)
      return
    }
    const pending = description.raw.pendingActivities?.find((a) => a.activityType?.name === ACTIVITY.executeK6)
    const started = pending?.state === PENDING_STARTED
    const payloads = pending?.heartbeatDetails?.payloads
    if (payloads && payloads.length > 0) {
      const [details] = arrayFromPayloads(defaultPayloadConverter, payloads)
      const chunk = consoleChunkSchema.safeParse(details)
      if (chunk.success) this.append(feed, chunk.data.lines)
    }
    const waitingForRunner = !started && !(await this.opts.presence.of(feed.locationId).catch(() => ({ runnerAvailable: true }))).runnerAvailable
    this.setStatus(feed, { status: started ? 'running' : 'queued', waitingForRunner })
  }

  private setStatus(feed: Feed, status: { status: RunStatus; waitingForRunner: boolean }): void {
    if (feed.status?.status === status.status && feed.status.waitingForRunner === status.waitingForRunner) return
    feed.status = status
    for (const v of feed.viewers) v.viewer.send({ type: 'status', ...status })
  }

  private append(feed: Feed, lines: ConsoleLine[]): void {
    let added = false
    for (const line of lines) {
      if (line.seq <= feed.lastSeq) continue
      feed.buffer.push(line)
      feed.lastSeq = line.seq
      added = true
    }
    if (!added) return
    if (feed.buffer.length > this.bufferLines) feed.buffer = feed.buffer.slice(feed.buffer.length - this.bufferLines)
    for (const v of feed.viewers) this.deliver(feed, v)
  }

  /** Sends a viewer every buffered line after its cursor, announcing any hole first. */
  private deliver(feed: Feed, state: ViewerState): void {
    const buffer = feed.buffer
    // Binary search for the first line after the cursor.
    let lo = 0
    let hi = buffer.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (buffer[mid]!.seq <= state.cursor) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < buffer.length; i++) {
      const line = buffer[i]!
      if (line.seq > state.cursor + 1) {
        state.viewer.send({
          type: 'gap',
          from: state.cursor + 1,
          to: line.seq - 1,
          reason: 'these lines are no longer held by the live relay',
          log: { runId: feed.runId, artifact: 'log' },
        })
      }
      state.viewer.send({ type: 'line', seq: line.seq, stream: line.stream, text: line.text, time: line.time })
      state.cursor = line.seq
    }
  }

  private async finish(feed: Feed): Promise<void> {
    feed.ended = true
    feed.polling = false
    const run = await this.opts.db.run.findUnique({ where: { id: feed.runId }, select: { status: true } })
    const status = run?.status ?? 'error'
    // Lines printed after the last heartbeat exist only in the archive.
    const archived = await this.readArchive(feed.runId)
    this.append(feed, archived)
    for (const v of feed.viewers) {
      v.viewer.send({ type: 'end', status, lastSeq: feed.lastSeq })
      v.viewer.close()
    }
    feed.viewers.clear()
    this.feeds.delete(feed.runId)
  }

  private async readArchive(runId: string): Promise<ConsoleLine[]> {
    let text: string
    try {
      text = (await this.opts.storage.getBytes(artifactKey(runId, CONSOLE_INDEX_FILE))).toString('utf8')
    } catch {
      return []
    }
    const lines: ConsoleLine[] = []
    for (const raw of text.split('\n')) {
      if (!raw) continue
      const parsed = consoleLineSchema.safeParse(JSON.parse(raw))
      if (parsed.success) lines.push(parsed.data)
    }
    return lines
  }

  private async replayArchive(runId: string, after: number, viewer: Viewer, status: RunStatus): Promise<void> {
    const lines = await this.readArchive(runId)
    let last = 0
    for (const line of lines) {
      last = line.seq
      if (line.seq > after) viewer.send({ type: 'line', seq: line.seq, stream: line.stream, text: line.text, time: line.time })
    }
    viewer.send({ type: 'end', status, lastSeq: last })
    viewer.close()
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { name?: string })?.name === 'WorkflowNotFoundError'
}
