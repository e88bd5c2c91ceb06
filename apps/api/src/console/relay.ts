// The live console relay. For each run with at least one viewer, ONE poller reads the pending
// console activity's heartbeat details (executeK6, or awaitK6 when a runner re-attached to its
// k6: console chunks with an overlap window, whose lines older than a second or two come packed
// and are unpacked only when the feed lacks them), keeps lines it has not seen (by seq) in a bounded
// per-run buffer and pushes them to every viewer. Each viewer has a cursor (last seq it got), so
// a reconnect with `after` resumes exactly; when the buffer no longer holds what a viewer needs
// it is told the missing range (`gap`), remembers it, and gets those lines (`fill`) from the
// archived console as soon as that exists, at the latest right before `end`. A viewer that stays
// to `end` has every line exactly once.
//
// Frames, not lines: the new lines of a poll tick go out as ONE `lines` message, serialised once
// and handed as the same bytes to every viewer whose cursor is at the frame's start. A viewer
// that is behind (just attached, resumed, or recovering from congestion) gets its own catch-up
// messages from the buffer. Back-pressure is per viewer: while more than `congestedBytes` wait
// in a viewer's connection it is skipped (its cursor stays) and catches up once drained, with a
// `gap` if the buffer moved past it meanwhile, so a slow viewer never holds the others up.
//
// Polling fits the run: a run whose console activity has not started (queued, waiting for a
// runner) is described every `queuedPollMs` (1 s), a running one every `pollMs` (the console
// tick). A queued run that a runner is about to take (one serving its location reported a free
// k6 slot) is described at the tick too: k6 prints from its first moment, and a slow read would
// hold those first lines back for up to `queuedPollMs`. Each API instance polls only the runs its
// own viewers watch.
//
// Metric frames ride on the same heartbeats (a few seconds of them, overlapping): a viewer that
// asks for them (`metrics=<after>`) gets each new frame once, in `metrics` messages serialised
// once per tick like lines, resumable by the frame's period start. The feed keeps the last
// FEED_FRAMES of them; at the end, the frames after the last heartbeat come from the run's stored
// `metrics` artifact, so a viewer that stays to `end` has every period.
//
// Every viewer gets an `end`: reading the final status and the archive at the end is retried
// while viewers wait, and a feed is removed from the map once it ended or has no one to tell,
// so a later viewer always builds a new one. Status only moves forward (queued → running →
// terminal); the run's row is read while no console activity is pending. When the API stops,
// viewers are told to reconnect, never that the console ended.
import type { Client } from '@temporalio/client'
import { arrayFromPayloads, defaultPayloadConverter } from '@temporalio/common'
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect.
import proto from '@temporalio/proto'
import { z } from 'zod'
import type { Db } from '@stampede/db'
import { gunzip } from 'node:zlib'
import { promisify } from 'node:util'
import { ARTIFACTS, artifactKey, consoleChunkSchema, isTerminal, metricFrameSchema, parseNdjson, type ConsoleChunk, type ConsoleLine, type ConsoleMessage, type MetricFrame, type RunStatus } from '@stampede/shared'
import { HEARTBEAT_FRAMES, unpackFrame } from '@stampede/shared/heartbeat-frames'
import { unpackLines } from '@stampede/shared/heartbeat-lines'
import { CONSOLE_ACTIVITIES, k6HeartbeatSchema, workflowIdFor, type PackedLines } from '@stampede/shared/temporal'
import type { Storage } from '@stampede/storage'
import { timestampMs, type RunnerPresence } from '../runs/presence.ts'
import { fillsFor, firstAfter, lineBytes, MESSAGE_BYTES, MESSAGE_LINES, readArchive } from './archive.ts'

const { temporal } = proto

export interface Viewer {
  send(message: ConsoleMessage): void
  /**
   * Sends one message already serialised (its JSON as UTF-8) as a text message. The relay hands
   * the SAME buffer to every viewer of a frame, so it must not be changed or compressed per viewer.
   */
  sendSerialised(data: Buffer): void
  /** Bytes handed to this viewer's connection and not written to the network yet (ws `bufferedAmount`). */
  readonly bufferedAmount: number
  /** Closes the connection: normally (1000) after `end`; with 1012 when the API stops (reconnect). */
  close(code?: number): void
}

export interface ConsoleRelayOptions {
  db: Db
  temporal: Client
  storage: Storage
  presence: RunnerPresence
  /** How often a running run's console is read (the console tick). */
  pollMs: number
  /** How often a run whose console activity has not started (queued, waiting for a runner) is read (default 1 s). */
  queuedPollMs?: number
  /**
   * How long a queued run that a runner is about to take is read at the console tick (default
   * 10 s). One still queued after that waits for something else (the workflow, orchestration) and
   * is read every `queuedPollMs` again, so a run stuck in the queue never costs the tick's rate.
   */
  startingSoonMs?: number
  /** A viewer with more bytes than this waiting in its connection is skipped until it drains (default 1 MiB). */
  congestedBytes?: number
  /** Lines kept per run for viewers that reconnect. */
  bufferLines?: number
  /** How long a run's buffer outlives its last viewer. */
  lingerMs?: number
  /** While no console activity is pending: how often the run's row and the archived console are looked at (default 2 s). */
  checkMs?: number
  /** First wait before retrying the reads at a run's end; doubles up to 10 s (default 500 ms). */
  retryMs?: number
}

/** The close code for "the API is stopping; reconnect" (RFC 6455 "service restart"). */
export const CLOSE_RESTART = 1012
/** How long a running run's runner may be silent before viewers are told. */
export const RUNNER_SILENT_MS = 5000
/**
 * A live runner heartbeats at least once a second, so a heartbeat time the relay has seen
 * unchanged for this long is not just the one it happened to catch first: only then is a
 * silence (possibly inflated by clock skew) reported.
 */
const HEARD_SETTLE_MS = 1500
const MAX_RETRY_MS = 10_000
const GAP_REASON = 'these lines are no longer held by the live relay'

type Status = Omit<Extract<ConsoleMessage, { type: 'status' }>, 'type'>
type LinesMessage = Extract<ConsoleMessage, { type: 'lines' }>
type GapMessage = Extract<ConsoleMessage, { type: 'gap' }>
type Range = { from: number; to: number }
type PendingActivity = proto.temporal.api.workflow.v1.IPendingActivityInfo

interface ViewerState {
  viewer: Viewer
  cursor: number
  /** Ranges announced to this viewer as `gap` and not yet filled. */
  gaps: Range[]
  /** The start of the last metric frame this viewer has; undefined: it did not ask for frames. */
  metricsAfter?: number
}

interface Feed {
  runId: string
  locationId: string
  viewers: Set<ViewerState>
  buffer: ConsoleLine[]
  lastSeq: number
  /** The newest metric frames (ascending by start), at most FEED_FRAMES of them. */
  frames: MetricFrame[]
  /** The start of the newest frame seen (0: none yet). */
  lastFrameStart: number
  /** Starts of packed frames newer than lastFrameStart that did not unpack: not tried again while they ride on heartbeats. */
  badFrames: Set<number>
  /** The last seq of the newest packed earlier lines that did not unpack: not tried again. */
  badEarlier?: number
  /** The last status sent (status only moves forward). */
  status?: Status
  /** The run's status as its row last said. */
  rowStatus: RunStatus
  checkedAt: number
  /** The archived console once read (then the buffer is the whole log); undefined until it exists. */
  archive?: ConsoleLine[]
  /** When the runner was last heard of (server time) and what the relay's own clock knows about it. */
  heard?: { serverMs: number; firstSeenAt: number; notBefore?: number }
  /** When the previous poll that reached Temporal started (the relay's clock). */
  lastPolledAt?: number
  timer?: NodeJS.Timeout
  lingerTimer?: NodeJS.Timeout
  polling: boolean
  /** Whether a console activity (executeK6 or awaitK6) had started at the last poll: a runner holds the run. */
  consoleStarted?: boolean
  /** Since when, without a break, the run has been queued with a free k6 slot at a runner serving its location (RunnerPresence.queued). */
  startingSoonSince?: number
  /** Bumped whenever polling stops or starts, so a superseded poll loop ends. */
  generation: number
  finishing: boolean
  /** A failure streak is logged once (polls run many times a second). */
  failing: boolean
  rowFailing: boolean
}

const PENDING_STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
const RANK: Record<RunStatus, number> = { queued: 0, running: 1, passed: 2, failed: 2, error: 2, cancelled: 2, timed_out: 2 }
const CLOSED: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW'])
const RESTART_REASON = 'the API is restarting'
/** Metric frames a feed keeps for viewers that attach or reconnect: ten minutes of a run. */
const FEED_FRAMES = 600
/** A `metrics` message holds at most this many frames / about this many bytes (one frame always). */
const MESSAGE_FRAMES = 60
const MESSAGE_FRAME_BYTES = 512 * 1024
/** A stored frames artifact larger than this is not read for viewers at the end (runs.metrics has the series). */
const MAX_STORED_FRAMES_BYTES = 64 * 1024 * 1024
const MAX_STORED_FRAMES_TEXT = 256 * 1024 * 1024
const gunzipAsync = promisify(gunzip)

export class ConsoleRelay {
  private readonly feeds = new Map<string, Feed>()
  private readonly bufferLines: number
  private readonly lingerMs: number
  private readonly checkMs: number
  private readonly retryMs: number
  private readonly queuedPollMs: number
  private readonly startingSoonMs: number
  private readonly congestedBytes: number
  private stopped = false
  private describes = 0
  private frames = 0
  private unpacks = 0
  private linesUnpacks = 0

  constructor(private readonly opts: ConsoleRelayOptions) {
    this.bufferLines = opts.bufferLines ?? 20_000
    this.lingerMs = opts.lingerMs ?? 60_000
    this.checkMs = opts.checkMs ?? 2000
    this.retryMs = opts.retryMs ?? 500
    this.queuedPollMs = Math.max(opts.pollMs, opts.queuedPollMs ?? 1000)
    this.startingSoonMs = opts.startingSoonMs ?? 10_000
    this.congestedBytes = opts.congestedBytes ?? 1024 * 1024
  }

  /** Temporal describe calls made so far (the cost of watching runs). */
  get describeCalls(): number {
    return this.describes
  }

  /** Packed metric frames unpacked (or tried) so far: at most HEARTBEAT_FRAMES.frames per heartbeat, each at most once. */
  get framesUnpacked(): number {
    return this.unpacks
  }

  /** Packed earlier console lines unpacked (or tried) so far: only when a feed lacked some of them. */
  get linesUnpacked(): number {
    return this.linesUnpacks
  }

  /** Shared frames serialised so far (one per poll tick that brought new lines to viewers at the head). */
  get framesSerialised(): number {
    return this.frames
  }

  /** Number of runs being polled now (one per watched run, whatever the viewer count). */
  get activePollers(): number {
    return [...this.feeds.values()].filter((f) => f.polling).length
  }

  /** Runs with a feed (being watched, finishing, or lingering after their last viewer left). */
  get feedCount(): number {
    return this.feeds.size
  }

  /** Attaches a viewer; returns a function that detaches it. A failed database read rejects (the caller reports it; viewers retry). */
  async attach(runId: string, after: number, viewer: Viewer, opts: { metricsAfter?: number } = {}): Promise<() => void> {
    if (this.stopped) return this.sendRestart(viewer)
    const run = await this.opts.db.run.findUnique({ where: { id: runId }, select: { status: true, locationId: true } })
    if (!run) {
      viewer.send({ type: 'error', message: `run ${runId} does not exist` })
      viewer.close()
      return () => {}
    }
    if (isTerminal(run.status) && !this.feeds.has(runId)) {
      // A finished run whose console is archived needs nothing from Temporal. Without a
      // readable archive (not stored yet, or S3 down) it goes through a feed, which ends it
      // when the workflow has closed and retries the reads.
      const archive = await readArchive(this.opts.storage, runId).catch(() => null)
      if (archive) {
        const frames = opts.metricsAfter === undefined ? [] : await readStoredFrames(this.opts.storage, runId, opts.metricsAfter).catch(() => [])
        this.replayArchive(archive, after, viewer, run.status, frames)
        return () => {}
      }
    }
    if (this.stopped) return this.sendRestart(viewer)
    const feed = this.feeds.get(runId) ?? this.createFeed(runId, run.locationId, run.status)
    if (RANK[run.status] > RANK[feed.rowStatus]) feed.rowStatus = run.status
    const state: ViewerState = { viewer, cursor: after, gaps: [], ...(opts.metricsAfter === undefined ? {} : { metricsAfter: opts.metricsAfter }) }
    feed.viewers.add(state)
    if (feed.lingerTimer) {
      clearTimeout(feed.lingerTimer)
      feed.lingerTimer = undefined
    }
    if (feed.status) viewer.send({ type: 'status', ...feed.status })
    this.deliver(feed, state, false)
    this.deliverFrames(feed, state)
    if (!feed.polling && !feed.finishing) this.startPolling(feed)
    return () => this.detach(feed, state)
  }

  /** The API is stopping: every viewer is told to reconnect (not that the console ended). */
  async stop(): Promise<void> {
    this.stopped = true
    for (const feed of this.feeds.values()) {
      feed.polling = false
      feed.generation++
      if (feed.timer) clearTimeout(feed.timer)
      if (feed.lingerTimer) clearTimeout(feed.lingerTimer)
      for (const v of feed.viewers) this.sendRestart(v.viewer)
      feed.viewers.clear()
    }
    this.feeds.clear()
  }

  private sendRestart(viewer: Viewer): () => void {
    viewer.send({ type: 'reconnect', reason: RESTART_REASON })
    viewer.close(CLOSE_RESTART)
    return () => {}
  }

  private createFeed(runId: string, locationId: string, rowStatus: RunStatus): Feed {
    const feed: Feed = {
      runId,
      locationId,
      viewers: new Set(),
      buffer: [],
      lastSeq: 0,
      frames: [],
      lastFrameStart: 0,
      badFrames: new Set(),
      rowStatus,
      checkedAt: Date.now(),
      polling: false,
      generation: 0,
      finishing: false,
      failing: false,
      rowFailing: false,
    }
    this.feeds.set(runId, feed)
    return feed
  }

  private detach(feed: Feed, state: ViewerState): void {
    if (!feed.viewers.delete(state) || feed.viewers.size > 0) return
    if (feed.finishing) return // finish() drops the feed once it has no one to tell
    if (feed.timer) clearTimeout(feed.timer)
    feed.timer = undefined
    feed.polling = false
    feed.generation++
    feed.lingerTimer = setTimeout(() => {
      if (feed.viewers.size === 0 && this.feeds.get(feed.runId) === feed) this.feeds.delete(feed.runId)
    }, this.lingerMs)
    feed.lingerTimer.unref()
  }

  private startPolling(feed: Feed): void {
    feed.polling = true
    const generation = ++feed.generation
    const live = () => feed.polling && feed.generation === generation && !feed.finishing && !this.stopped
    const tick = async () => {
      feed.timer = undefined
      if (!live()) return
      try {
        await this.poll(feed)
        feed.failing = false
      } catch (err) {
        // A transient Temporal error must not end the console; the next poll tries again.
        if (!feed.failing) console.warn(`[console] poll of run ${feed.runId} failed (retrying): ${(err as Error).message}`)
        feed.failing = true
      }
      // A queued run no runner has taken has nothing to relay: read it slowly, unless a runner is
      // about to take it. Once a runner holds it (k6 loading the script may already print), at
      // the console tick.
      const waiting = feed.status?.status === 'queued' && !feed.consoleStarted && !this.startingSoon(feed)
      if (live()) feed.timer = setTimeout(() => void tick(), waiting ? this.queuedPollMs : this.opts.pollMs)
    }
    void tick()
  }

  private async poll(feed: Feed): Promise<void> {
    const polledAt = Date.now()
    const handle = this.opts.temporal.workflow.getHandle(workflowIdFor(feed.runId))
    let description: Awaited<ReturnType<typeof handle.describe>>
    try {
      this.describes++
      description = await handle.describe()
    } catch (err) {
      if (!isNotFound(err)) throw err
      // Not started yet, or long gone (retention): the row decides.
      if (!isTerminal(feed.rowStatus) && Date.now() - feed.checkedAt >= this.checkMs) await this.checkRow(feed)
      if (isTerminal(feed.rowStatus)) await this.finish(feed)
      else this.setStatus(feed, { status: feed.rowStatus, waitingForRunner: false })
      return
    }
    if (CLOSED.has(description.status.name)) {
      await this.finish(feed, description.status.name)
      return
    }
    const pending = (description.raw.pendingActivities ?? []).filter((a) => CONSOLE_ACTIVITIES.includes(a.activityType?.name ?? ''))
    const beats = pending.map((a) => ({ activity: a, beat: heartbeatOf(a) }))
    const before = feed.lastSeq
    const fresh: ConsoleLine[] = []
    for (const { beat } of [...beats].sort((a, b) => (a.beat?.lastSeq ?? 0) - (b.beat?.lastSeq ?? 0))) {
      if (!beat) continue
      this.append(feed, this.earlierLines(feed, beat.earlier), fresh)
      this.append(feed, beat.lines, fresh)
    }
    this.publish(feed, before, fresh)
    const framesBefore = feed.lastFrameStart
    const freshFrames = this.appendFrames(feed, beats.flatMap(({ beat }) => [beat?.frames ?? [], beat?.packed ?? []]))
    this.publishFrames(feed, framesBefore, freshFrames)
    const started = beats.find((b) => b.activity.state === PENDING_STARTED)
    feed.consoleStarted = started !== undefined
    this.hear(feed, pending, polledAt)
    if (pending.length === 0) {
      // Between k6's end and the workflow's close (recording the result, storing artifacts):
      // the row has the outcome first, and the archived console may be there already.
      if (Date.now() - feed.checkedAt >= this.checkMs) {
        await this.checkRow(feed)
        await this.checkArchive(feed)
      }
    }
    const k6Running = started !== undefined && started.beat?.k6Started !== false
    const current = feed.status?.status ?? feed.rowStatus
    let status: RunStatus
    if (isTerminal(feed.rowStatus)) status = feed.rowStatus
    else if (k6Running || feed.rowStatus === 'running' || RANK[current] >= RANK.running) status = 'running'
    else status = 'queued'
    const next: Status = { status, waitingForRunner: false }
    let startingSoon = false
    if (status === 'queued' && !started) {
      const presence = await this.opts.presence.queued(feed.locationId)
      next.waitingForRunner = presence.waitingForRunner
      startingSoon = presence.startingSoon
    }
    if (!startingSoon) feed.startingSoonSince = undefined
    else feed.startingSoonSince ??= polledAt
    if (status === 'running' && pending.length > 0) {
      const silentMs = this.silentMs(feed)
      if (silentMs !== undefined && silentMs >= RUNNER_SILENT_MS) next.runnerSilentSeconds = Math.floor(silentMs / 1000)
    }
    this.setStatus(feed, next)
  }

  /** A runner is about to take the queued run: it has had a free slot for less than startingSoonMs. */
  private startingSoon(feed: Feed): boolean {
    return feed.startingSoonSince !== undefined && Date.now() - feed.startingSoonSince < this.startingSoonMs
  }

  /**
   * Tracks when the runner was last heard of: the newest heartbeat (or start) of a console
   * activity, by Temporal's clock. The relay's own observations bound it, so a clock skew
   * between this host and Temporal neither invents nor hides a silence: a value seen
   * unchanged since time F is at least now - F old; a value that changed after a poll at P
   * is at most now - P old.
   */
  private hear(feed: Feed, pending: PendingActivity[], polledAt: number): void {
    let serverMs: number | undefined
    for (const a of pending) {
      for (const t of [a.lastHeartbeatTime, a.lastStartedTime]) {
        const ms = timestampMs(t)
        if (ms !== undefined && (serverMs === undefined || ms > serverMs)) serverMs = ms
      }
    }
    // An activity that has not started (awaitK6 waiting for its runner) was scheduled after
    // the runner was last heard of.
    if (serverMs === undefined && feed.heard === undefined) {
      for (const a of pending) {
        const ms = timestampMs(a.scheduledTime)
        if (ms !== undefined && (serverMs === undefined || ms > serverMs)) serverMs = ms
      }
    }
    const heard = feed.heard
    if (serverMs !== undefined && (!heard || serverMs > heard.serverMs)) {
      feed.heard = { serverMs, firstSeenAt: polledAt, notBefore: heard ? feed.lastPolledAt : undefined }
    }
    feed.lastPolledAt = polledAt
  }

  private silentMs(feed: Feed): number | undefined {
    const heard = feed.heard
    if (!heard) return undefined
    const now = Date.now()
    if (now - heard.firstSeenAt < HEARD_SETTLE_MS) return undefined
    let ms = Math.max(now - heard.serverMs, now - heard.firstSeenAt)
    if (heard.notBefore !== undefined) ms = Math.min(ms, now - heard.notBefore)
    return ms
  }

  private setStatus(feed: Feed, next: Status): void {
    const prev = feed.status
    // Never backwards: a run seen running stays running until its terminal status.
    if (prev && RANK[next.status] < RANK[prev.status]) next = { ...next, status: prev.status, waitingForRunner: false }
    if (prev && prev.status === next.status && prev.waitingForRunner === next.waitingForRunner && prev.runnerSilentSeconds === next.runnerSilentSeconds) return
    feed.status = next
    this.broadcast(feed, { type: 'status', ...next })
  }

  /** One message to every viewer of the run, serialised once. */
  private broadcast(feed: Feed, message: ConsoleMessage): void {
    if (feed.viewers.size === 0) return
    const data = serialise(message)
    for (const v of feed.viewers) v.viewer.sendSerialised(data)
  }

  /** Reads the run's row (at most every checkMs while polling); a failure keeps what was known. */
  private async checkRow(feed: Feed): Promise<void> {
    feed.checkedAt = Date.now()
    try {
      const row = await this.opts.db.run.findUnique({ where: { id: feed.runId }, select: { status: true } })
      if (row && RANK[row.status] >= RANK[feed.rowStatus]) feed.rowStatus = row.status
      feed.rowFailing = false
    } catch (err) {
      if (!feed.rowFailing) console.warn(`[console] reading run ${feed.runId} failed (retrying): ${(err as Error).message}`)
      feed.rowFailing = true
    }
  }

  /** Loads the archived console if it exists by now (k6 has ended): it fills every announced gap. */
  private async checkArchive(feed: Feed): Promise<void> {
    if (feed.archive) return
    const archive = await readArchive(this.opts.storage, feed.runId).catch(() => null)
    if (archive) this.useArchive(feed, archive)
  }

  /** The archive is the whole log: it becomes the buffer, fills every viewer's gaps and brings the lines after the last heartbeat. */
  private useArchive(feed: Feed, archive: ConsoleLine[]): void {
    feed.archive = archive
    const archivedTo = archive.at(-1)?.seq ?? 0
    feed.buffer = [...archive, ...feed.buffer.slice(firstAfter(feed.buffer, archivedTo))]
    feed.lastSeq = Math.max(feed.lastSeq, archivedTo)
    for (const v of feed.viewers) {
      this.fill(feed, v)
      this.deliver(feed, v)
    }
  }

  /** Adds the lines not seen yet to the buffer (and to `fresh`, this tick's new lines). */
  private append(feed: Feed, lines: ConsoleLine[], fresh: ConsoleLine[]): void {
    let added = false
    for (const line of lines) {
      if (line.seq <= feed.lastSeq) continue
      feed.buffer.push(line)
      fresh.push(line)
      feed.lastSeq = line.seq
      added = true
    }
    if (!added) return
    if (!feed.archive && feed.buffer.length > this.bufferLines) feed.buffer = feed.buffer.slice(feed.buffer.length - this.bufferLines)
  }

  /**
   * A heartbeat's packed earlier lines (the runner's window before its new lines), unpacked only
   * when the feed lacks some of them: on its first poll, or after heartbeats it missed. Packed
   * lines that did not unpack are not tried again, so a runner's heartbeats cost at most one
   * bounded gunzip for each new range they name.
   */
  private earlierLines(feed: Feed, earlier: PackedLines | undefined): ConsoleLine[] {
    if (!earlier || earlier.lastSeq <= feed.lastSeq || earlier.lastSeq === feed.badEarlier) return []
    this.linesUnpacks++
    const lines = unpackLines(earlier)
    if (!lines) feed.badEarlier = earlier.lastSeq
    return lines ?? []
  }

  /** Adds the heartbeats' frames not seen yet (by period start) to the feed; returns them, ascending. */
  private appendFrames(feed: Feed, raw: (readonly unknown[])[]): MetricFrame[] {
    const fresh = this.newFrames(feed, raw).sort((a, b) => a.start - b.start)
    const unique = fresh.filter((f, i) => i === 0 || f.start !== fresh[i - 1]!.start)
    if (unique.length === 0) return []
    feed.frames.push(...unique)
    feed.lastFrameStart = unique.at(-1)!.start
    for (const start of feed.badFrames) if (start <= feed.lastFrameStart) feed.badFrames.delete(start)
    if (feed.frames.length > FEED_FRAMES) feed.frames = feed.frames.slice(feed.frames.length - FEED_FRAMES)
    return unique
  }

  /**
   * The frames of a tick's heartbeats newer than the feed's last: packed (unpacked here) or as they
   * are (runners before packed frames). What is not a frame is dropped; a packed frame is unpacked
   * only if it is among its heartbeat's newest HEARTBEAT_FRAMES.frames, at most that many bytes,
   * and not one that failed before, so a runner's heartbeats cannot make the API gunzip more than
   * a real runner sends.
   */
  private newFrames(feed: Feed, perHeartbeat: readonly (readonly unknown[])[]): MetricFrame[] {
    const fresh: MetricFrame[] = []
    for (const frames of perHeartbeat) {
      for (const raw of frames.slice(-HEARTBEAT_FRAMES.frames)) {
        const start = (raw as { start?: unknown } | null)?.start
        if (typeof start !== 'number' || start <= feed.lastFrameStart || feed.badFrames.has(start)) continue
        const gz = (raw as { gz?: unknown }).gz
        if (typeof gz !== 'string') {
          const frame = metricFrameSchema.safeParse(raw).data
          if (frame) fresh.push(frame)
          continue
        }
        this.unpacks++
        const frame = unpackFrame({ start, gz })
        if (frame) fresh.push(frame)
        // Bounded: a hostile runner could name a new start in every heartbeat, but each costs at most one bounded gunzip.
        else if (feed.badFrames.size < 4 * HEARTBEAT_FRAMES.frames) feed.badFrames.add(start)
      }
    }
    return fresh
  }

  /** A tick's new frames: one `metrics` message, serialised once, for every viewer at `before`; the others catch up. */
  private publishFrames(feed: Feed, before: number, fresh: MetricFrame[]): void {
    if (fresh.length === 0) return
    let data: Buffer[] | undefined
    for (const v of feed.viewers) {
      if (v.metricsAfter === undefined || v.metricsAfter >= feed.lastFrameStart || this.congested(v)) continue
      if (v.metricsAfter === before) {
        data ??= frameMessages(fresh).map(serialise)
        for (const d of data) v.viewer.sendSerialised(d)
        v.metricsAfter = feed.lastFrameStart
      } else {
        this.deliverFrames(feed, v)
      }
    }
  }

  /** The buffered frames after a viewer's metrics cursor, in bounded messages. */
  private deliverFrames(feed: Feed, state: ViewerState, frames: MetricFrame[] = feed.frames): void {
    if (state.metricsAfter === undefined) return
    const after = state.metricsAfter
    const wanted = frames.filter((f) => f.start > after)
    if (wanted.length === 0) return
    for (const message of frameMessages(wanted)) state.viewer.send(message)
    state.metricsAfter = wanted.at(-1)!.start
  }

  private congested(state: ViewerState): boolean {
    return state.viewer.bufferedAmount > this.congestedBytes
  }

  /**
   * One poll tick's delivery. `fresh` are the lines that arrived this tick, after `before` (the
   * last seq held before it): they become one frame (a `lines` message, with a `gap` first if the
   * heartbeat skipped ahead), serialised once and sent as the same bytes to every viewer whose
   * cursor is `before`. Every other viewer that lacks lines and is not congested catches up on
   * its own; a congested one is left where it is until it drains.
   */
  private publish(feed: Feed, before: number, fresh: ConsoleLine[]): void {
    let frame: { data: Buffer[]; gaps: Range[] } | undefined
    for (const v of feed.viewers) {
      if (v.cursor >= feed.lastSeq || this.congested(v)) continue
      if (fresh.length > 0 && v.cursor === before) {
        if (!frame) {
          const messages = messagesFor(feed.runId, fresh, before)
          frame = { data: messages.map(serialise), gaps: messages.flatMap((m) => (m.type === 'gap' ? [{ from: m.from, to: m.to }] : [])) }
          this.frames++
        }
        for (const data of frame.data) v.viewer.sendSerialised(data)
        v.gaps.push(...frame.gaps)
        v.cursor = fresh.at(-1)!.seq
        if (feed.archive) this.fill(feed, v)
      } else {
        this.deliver(feed, v, false)
      }
    }
  }

  /**
   * Sends a viewer the buffered lines after its cursor in bounded `lines` messages, announcing
   * (and remembering) any hole first with a `gap`. Unless `force` (the run's end: everything goes
   * out before `end`), it stops once the viewer's connection is congested and goes on from its
   * cursor on a later tick.
   */
  private deliver(feed: Feed, state: ViewerState, force = true): void {
    const buffer = feed.buffer
    let i = firstAfter(buffer, state.cursor)
    while (i < buffer.length) {
      if (!force && this.congested(state)) return
      const line = buffer[i]!
      if (line.seq > state.cursor + 1) {
        const gap = { from: state.cursor + 1, to: line.seq - 1 }
        state.gaps.push(gap)
        state.viewer.send(gapMessage(feed.runId, gap))
      }
      const end = chunkEnd(buffer, i)
      state.viewer.send({ type: 'lines', lines: buffer.slice(i, end) })
      state.cursor = buffer[end - 1]!.seq
      i = end
    }
    if (feed.archive) this.fill(feed, state)
  }

  /** Sends the archived lines of every gap this viewer was told about. */
  private fill(feed: Feed, state: ViewerState): void {
    if (!feed.archive) return
    for (const gap of state.gaps.splice(0)) {
      for (const message of fillsFor(feed.archive, gap.from, gap.to)) state.viewer.send(message)
    }
  }

  /**
   * The workflow has closed: the archive's lines (fills, then the tail after the last
   * heartbeat) and `end` to every viewer. The reads are retried with backoff while anyone
   * waits; with no one left the feed is dropped, and the next viewer starts afresh.
   */
  private async finish(feed: Feed, workflowStatus?: string): Promise<void> {
    if (feed.finishing) return
    feed.finishing = true
    feed.polling = false
    feed.generation++
    let delay = this.retryMs
    for (;;) {
      if (this.stopped || this.feeds.get(feed.runId) !== feed) return
      if (feed.viewers.size === 0) {
        this.drop(feed)
        return
      }
      try {
        const row = await this.opts.db.run.findUnique({ where: { id: feed.runId }, select: { status: true } })
        const status = row && isTerminal(row.status) ? row.status : closedStatus(workflowStatus)
        if (!feed.archive) {
          // Absent now means absent for good: the workflow stores the console before it closes.
          const archive = await readArchive(this.opts.storage, feed.runId)
          if (archive) this.useArchive(feed, archive)
        }
        // The frames after the last heartbeat (the final one above all) are in the stored artifact.
        const metricViewers = [...feed.viewers].filter((v) => v.metricsAfter !== undefined)
        const stored = metricViewers.length > 0 ? await readStoredFrames(this.opts.storage, feed.runId, Math.min(...metricViewers.map((v) => v.metricsAfter!))).catch(() => []) : []
        if (this.stopped || this.feeds.get(feed.runId) !== feed) return
        // Viewers skipped while congested get what they lack now: nothing may be missing at `end`.
        for (const v of feed.viewers) {
          this.deliver(feed, v)
          this.deliverFrames(feed, v)
          this.deliverFrames(feed, v, stored)
        }
        const end = serialise({ type: 'end', status, lastSeq: feed.lastSeq })
        for (const v of feed.viewers) {
          v.viewer.sendSerialised(end)
          v.viewer.close()
        }
        feed.viewers.clear()
        this.drop(feed)
        return
      } catch (err) {
        console.warn(`[console] ending the console of run ${feed.runId} failed (retrying in ${delay} ms): ${(err as Error).message}`)
        await new Promise((resolve) => setTimeout(resolve, delay).unref())
        delay = Math.min(delay * 2, MAX_RETRY_MS)
      }
    }
  }

  private drop(feed: Feed): void {
    if (feed.lingerTimer) clearTimeout(feed.lingerTimer)
    if (feed.timer) clearTimeout(feed.timer)
    if (this.feeds.get(feed.runId) === feed) this.feeds.delete(feed.runId)
  }

  /** A finished run: the archived lines after `after` in bounded `lines` messages (holes in the stored log are not gaps: nothing fills them), then `end`. */
  private replayArchive(lines: ConsoleLine[], after: number, viewer: Viewer, status: RunStatus, frames: MetricFrame[] = []): void {
    for (let i = firstAfter(lines, after); i < lines.length; ) {
      const end = chunkEnd(lines, i)
      viewer.send({ type: 'lines', lines: lines.slice(i, end) })
      i = end
    }
    if (frames.length > 0) for (const message of frameMessages(frames)) viewer.send(message)
    viewer.send({ type: 'end', status, lastSeq: lines.at(-1)?.seq ?? 0 })
    viewer.close()
  }
}

const serialise = (message: ConsoleMessage): Buffer => Buffer.from(JSON.stringify(message))

const gapMessage = (runId: string, gap: Range): GapMessage => ({ type: 'gap', ...gap, reason: GAP_REASON, log: { runId, artifact: 'log' } })

/**
 * The end (exclusive) of the `lines` message starting at lines[start]: consecutive seqs only, at
 * most MESSAGE_LINES lines and about MESSAGE_BYTES of JSON (one line is always taken).
 */
function chunkEnd(lines: readonly ConsoleLine[], start: number): number {
  let bytes = 0
  let i = start
  for (; i < lines.length && i - start < MESSAGE_LINES; i++) {
    const line = lines[i]!
    if (i > start && line.seq !== lines[i - 1]!.seq + 1) break
    bytes += lineBytes(line)
    if (i > start && bytes > MESSAGE_BYTES) break
  }
  return i
}

/** The messages that bring a viewer at `after` the (ascending, new) `lines`: `lines` messages, each hole announced by a `gap` first. */
function messagesFor(runId: string, lines: readonly ConsoleLine[], after: number): (LinesMessage | GapMessage)[] {
  const messages: (LinesMessage | GapMessage)[] = []
  let cursor = after
  for (let i = 0; i < lines.length; ) {
    if (lines[i]!.seq > cursor + 1) messages.push(gapMessage(runId, { from: cursor + 1, to: lines[i]!.seq - 1 }))
    const end = chunkEnd(lines, i)
    messages.push({ type: 'lines', lines: lines.slice(i, end) })
    cursor = lines[end - 1]!.seq
    i = end
  }
  return messages
}

/** `metrics` messages for ascending frames: at most MESSAGE_FRAMES frames and about MESSAGE_FRAME_BYTES each. */
function frameMessages(frames: readonly MetricFrame[]): Extract<ConsoleMessage, { type: 'metrics' }>[] {
  const messages: Extract<ConsoleMessage, { type: 'metrics' }>[] = []
  let current: MetricFrame[] = []
  let bytes = 0
  for (const frame of frames) {
    const size = JSON.stringify(frame).length
    if (current.length > 0 && (current.length >= MESSAGE_FRAMES || bytes + size > MESSAGE_FRAME_BYTES)) {
      messages.push({ type: 'metrics', frames: current })
      current = []
      bytes = 0
    }
    current.push(frame)
    bytes += size
  }
  if (current.length > 0) messages.push({ type: 'metrics', frames: current })
  return messages
}

/**
 * The run's stored frames (its `metrics` artifact, gzipped NDJSON) after `after`, ascending;
 * none when the run stored none (or stored k6's per-sample JSON there, before the frames). Lines
 * that are not frames are skipped.
 */
async function readStoredFrames(storage: Storage, runId: string, after: number): Promise<MetricFrame[]> {
  const key = artifactKey(runId, ARTIFACTS.metrics.file)
  let gz: Buffer
  try {
    const { body, bytes } = await storage.getStream(key)
    if (bytes !== undefined && bytes > MAX_STORED_FRAMES_BYTES) {
      body.destroy()
      return []
    }
    const parts: Buffer[] = []
    let size = 0
    for await (const part of body as AsyncIterable<Buffer>) {
      size += part.length
      if (size > MAX_STORED_FRAMES_BYTES) {
        body.destroy()
        return []
      }
      parts.push(part)
    }
    gz = Buffer.concat(parts, size)
  } catch {
    return []
  }
  // Bounded: a compressed file can expand a thousandfold.
  const text = (await gunzipAsync(gz, { maxOutputLength: MAX_STORED_FRAMES_TEXT })).toString('utf8')
  return parseNdjson(text, metricFrameSchema)
    .filter((f) => f.start > after)
    .sort((a, b) => a.start - b.start)
}

/**
 * A heartbeat as the relay reads it: its frames are checked one by one, and only those newer
 * than the feed's last (see newFrames), since the same frames ride on several heartbeats.
 * `frames`: runners from before packed frames sent them as they are.
 */
const relayHeartbeatSchema = k6HeartbeatSchema.extend({ frames: z.array(z.unknown()).optional(), packed: z.array(z.unknown()).optional() })
type RelayHeartbeat = z.infer<typeof relayHeartbeatSchema>

/** A console activity's heartbeat: a k6 heartbeat, or (older runners) a plain console chunk. */
function heartbeatOf(activity: PendingActivity): (ConsoleChunk & Partial<Omit<RelayHeartbeat, keyof ConsoleChunk>>) | undefined {
  const payloads = activity.heartbeatDetails?.payloads
  if (!payloads || payloads.length === 0) return undefined
  const [details] = arrayFromPayloads(defaultPayloadConverter, payloads)
  const beat = relayHeartbeatSchema.safeParse(details)
  if (beat.success) return beat.data
  const chunk = consoleChunkSchema.safeParse(details)
  return chunk.success ? chunk.data : undefined
}

/** The status to report when the workflow closed but the row has no outcome (the platform broke). */
function closedStatus(workflowStatus: string | undefined): RunStatus {
  if (workflowStatus === 'CANCELLED') return 'cancelled'
  if (workflowStatus === 'TIMED_OUT') return 'timed_out'
  return 'error'
}

function isNotFound(err: unknown): boolean {
  return (err as { name?: string })?.name === 'WorkflowNotFoundError'
}
