// The relay against fakes at its boundaries (Temporal's describe(), the database, S3):
// one poller per run whatever the viewer count, dedupe by seq across overlapping chunks,
// gaps announced with the missing range and filled from the archive, resume from `after`,
// the archive tail at the end, an `end` for every viewer even when the reads at the end fail,
// a status that never goes backwards, a silent runner reported, and `reconnect` on stop; frames
// (one `lines` message per tick, serialised once for every viewer at the head), per-viewer
// back-pressure (a congested viewer is skipped, catches up or gets gap + fill), bounded replay
// messages, and the slow polling of queued runs.
import { afterEach, describe, expect, it } from 'vitest'
import { defaultPayloadConverter } from '@temporalio/common'
import proto from '@temporalio/proto'
import type { Client } from '@temporalio/client'
import type { Db } from '@stampede/db'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import type { ConsoleLine, ConsoleMessage, MetricFrame, RunStatus } from '@stampede/shared'
import { HEARTBEAT_FRAMES, packFrame } from '@stampede/shared/heartbeat-frames'
import { EARLIER_LINES_BYTES, packLines } from '@stampede/shared/heartbeat-lines'
import { ArtifactNotFoundError, type Storage } from '@stampede/storage'
import { ConsoleRelay } from './relay.ts'
import type { RunnerPresence } from '../runs/presence.ts'

const { temporal } = proto
const line = (seq: number): ConsoleLine => ({ seq, stream: 'stdout', text: `line ${seq}`, time: '2026-01-01T00:00:00.000Z' })
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const timestamp = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 })

interface Activity {
  name: 'executeK6' | 'awaitK6'
  started: boolean
  chunk?: { fromSeq: number; lines: ConsoleLine[]; lastSeq: number; earlier?: unknown }
  k6Started?: boolean
  /** Metric frames in the heartbeat as runners before packed frames sent them (k6 heartbeats only). */
  frames?: MetricFrame[]
  /** Packed metric frames in the heartbeat (k6 heartbeats only). */
  packed?: unknown[]
  /** When the runner last heartbeated (ms), or 'now' for a runner that heartbeats all the time. */
  heartbeatAt?: number | 'now'
}

function fakes(options: { bufferLines?: number; queuedPollMs?: number; pollMs?: number; startingSoonMs?: number } = {}) {
  const state = {
    status: 'running' as RunStatus,
    workflowOpen: true,
    /** Shorthand for a started executeK6 heartbeating this chunk (the runner of older versions). */
    chunk: undefined as Activity['chunk'],
    activity: undefined as Activity | undefined,
    /** undefined: no archived console (yet). */
    archive: undefined as ConsoleLine[] | undefined,
    describes: 0,
    /** Fail database reads for which this returns true (`withLocation`: the read made by attach). */
    failDb: undefined as ((read: { withLocation: boolean }) => boolean) | undefined,
    dbFailures: 0,
    failStorage: false,
    storageFailures: 0,
    /** undefined: no stored metric frames (the `metrics` artifact). */
    storedFrames: undefined as MetricFrame[] | undefined,
    /** What presence says of a queued run's location: a runner there has a free k6 slot. */
    startingSoon: false,
  }
  const db = {
    run: {
      findUnique: async (args: { select: Record<string, boolean> }) => {
        if (state.failDb?.({ withLocation: Boolean(args.select.locationId) })) {
          state.dbFailures++
          throw new Error('connection to the database lost')
        }
        return { status: state.status, locationId: 'us-east' }
      },
    },
  } as unknown as Db
  const pending = (): Activity | undefined => state.activity ?? (state.chunk ? { name: 'executeK6', started: true, chunk: state.chunk } : undefined)
  const client = {
    workflow: {
      getHandle: () => ({
        describe: async () => {
          state.describes++
          const a = pending()
          const heartbeatAt = a?.heartbeatAt === 'now' ? Date.now() : a?.heartbeatAt
          const details = a?.chunk && (a.k6Started === undefined ? a.chunk : { ...a.chunk, runner: 'stampede-runner-1', k6Started: a.k6Started, ...(a.frames ? { frames: a.frames } : {}), ...(a.packed ? { packed: a.packed } : {}) })
          return {
            status: { name: state.workflowOpen ? 'RUNNING' : 'COMPLETED' },
            raw: {
              pendingActivities: a
                ? [
                    {
                      activityType: { name: a.name },
                      state: a.started ? temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED : temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
                      heartbeatDetails: details ? { payloads: [defaultPayloadConverter.toPayload(details)] } : null,
                      lastHeartbeatTime: heartbeatAt === undefined ? null : timestamp(heartbeatAt),
                    },
                  ]
                : [],
            },
          }
        },
      }),
    },
  } as unknown as Client
  const storage = {
    getBytes: async (key: string) => {
      if (state.failStorage) {
        state.storageFailures++
        throw new Error('S3 unreachable')
      }
      if (!state.archive) throw new ArtifactNotFoundError(key)
      return Buffer.from(state.archive.map((l) => JSON.stringify(l) + '\n').join(''))
    },
    getStream: async (key: string) => {
      if (!state.storedFrames) throw new ArtifactNotFoundError(key)
      const gz = gzipSync(state.storedFrames.map((f) => JSON.stringify(f) + '\n').join(''))
      return { body: Readable.from([gz]), bytes: gz.length }
    },
  } as unknown as Storage
  const presence = { queued: async () => ({ waitingForRunner: false, startingSoon: state.startingSoon }) } as unknown as RunnerPresence
  const relay = new ConsoleRelay({ db, temporal: client, storage, presence, pollMs: options.pollMs ?? 5,
    queuedPollMs: options.queuedPollMs ?? 5,
    ...(options.startingSoonMs === undefined ? {} : { startingSoonMs: options.startingSoonMs }),
    lingerMs: 1000,
    checkMs: 5,
    retryMs: 5,
    bufferLines: options.bufferLines,
  })
  relays.push(relay)
  return { state, relay }
}

function viewer() {
  const messages: ConsoleMessage[] = []
  /** The pre-serialised buffers this viewer was handed, as they were (to compare identity). */
  const serialised: Buffer[] = []
  let closedWith: number | undefined
  const sink = {
    /** What the fake connection says is waiting to be written (set by a test to congest it). */
    bufferedAmount: 0,
    send: (m: ConsoleMessage) => messages.push(m),
    sendSerialised: (data: Buffer) => {
      serialised.push(data)
      messages.push(JSON.parse(data.toString('utf8')) as ConsoleMessage)
    },
    close: (code = 1000) => (closedWith = code),
  }
  return {
    messages,
    serialised,
    get closed() {
      return closedWith !== undefined
    },
    get closeCode() {
      return closedWith
    },
    seqs: () => messages.flatMap((m) => (m.type === 'lines' ? m.lines.map((l) => l.seq) : [])),
    /** Every seq the viewer holds, from lines and fills, in arrival order. */
    held: () => messages.flatMap((m) => (m.type === 'lines' || m.type === 'fill' ? m.lines.map((l) => l.seq) : [])),
    statuses: () => messages.flatMap((m) => (m.type === 'status' ? [m] : [])),
    of: <T extends ConsoleMessage['type']>(type: T) => messages.filter((m): m is Extract<ConsoleMessage, { type: T }> => m.type === type),
    sink,
  }
}

const until = async (cond: () => boolean, timeoutMs = 3000) => {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met')
    await new Promise((r) => setTimeout(r, 2))
  }
}

let relays: ConsoleRelay[] = []
afterEach(async () => {
  await Promise.all(relays.map((r) => r.stop()))
  relays = []
})

const metricFrame = (i: number): MetricFrame => ({
  v: 1,
  seq: i,
  start: 1_000_000 + i * 1000,
  end: 1_001_000 + i * 1000,
  mapping: { kind: 'log', gamma: 1.008 },
  series: [{ metric: 'http_reqs', type: 'counter', count: 10, sum: 10 }],
})
const packed = (i: number) => packFrame(metricFrame(i))
const starts = (messages: ConsoleMessage[]) => messages.flatMap((m) => (m.type === 'metrics' ? m.frames.map((f) => f.start) : []))

describe('ConsoleRelay metric frames', () => {
  it('sends each frame once to viewers that asked, resumes by period, and completes from the stored frames at the end', async () => {
    const { state, relay } = fakes()
    const chunk = { fromSeq: 1, lines: [line(1)], lastSeq: 1 }
    state.activity = { name: 'executeK6', started: true, k6Started: true, chunk, packed: [0, 1, 2].map(packed) }
    const watching = viewer()
    const plain = viewer()
    await relay.attach('r', 0, watching.sink, { metricsAfter: 0 })
    await relay.attach('r', 0, plain.sink)
    await until(() => starts(watching.messages).length === 3)
    // Overlapping heartbeats: frames 1-2 again with 3-4.
    state.activity = { ...state.activity, packed: [1, 2, 3, 4].map(packed) }
    await until(() => starts(watching.messages).length === 5)
    // A viewer that held up to frame 2 comes back: it gets 3 and 4 from the buffer, nothing twice.
    const back = viewer()
    await relay.attach('r', 1, back.sink, { metricsAfter: metricFrame(2).start })
    expect(starts(back.messages)).toEqual([3, 4].map((i) => metricFrame(i).start))
    // k6 ends: the final frames after the last heartbeat come from the stored artifact.
    state.storedFrames = [0, 1, 2, 3, 4, 5, 6].map(metricFrame)
    state.activity = undefined
    state.archive = [line(1)]
    state.status = 'passed'
    state.workflowOpen = false
    await until(() => watching.closed && back.closed && plain.closed)
    const all = [0, 1, 2, 3, 4, 5, 6].map((i) => metricFrame(i).start)
    expect(starts(watching.messages)).toEqual(all)
    expect(starts(back.messages)).toEqual(all.slice(3))
    expect(plain.of('metrics')).toEqual([])
    // The tick's frames went to the viewer as one shared buffer.
    expect(watching.serialised.some((b) => b.toString().includes('"type":"metrics"'))).toBe(true)
  })

  it('unpacks only what is a packed frame of the period it names, and still reads unpacked frames from older runners', async () => {
    const { state, relay } = fakes()
    const chunk = { fromSeq: 1, lines: [line(1)], lastSeq: 1 }
    // A frame padded to 2 MB unpacked (a few KB packed): past HEARTBEAT_FRAMES.frameBytes, so never unpacked whole.
    const bomb = { start: metricFrame(3).start, gz: gzipSync(JSON.stringify(metricFrame(3)) + ' '.repeat(2 * 1024 * 1024)).toString('base64') }
    const hostile = [
      { start: metricFrame(1).start, gz: 'not base64 gzip' },
      { start: metricFrame(2).start, gz: packed(7).gz },
      bomb,
      { start: metricFrame(4).start, gz: gzipSync('{"v":1}').toString('base64') },
      packed(6),
    ]
    state.activity = { name: 'executeK6', started: true, k6Started: true, chunk, packed: hostile }
    const watching = viewer()
    await relay.attach('r', 0, watching.sink, { metricsAfter: 0 })
    await until(() => starts(watching.messages).length === 1)
    expect(starts(watching.messages)).toEqual([metricFrame(6).start])
    state.activity = { ...state.activity, packed: [{ start: 'x', gz: packed(7).gz }, packed(8)] }
    await until(() => starts(watching.messages).length === 2)
    expect(starts(watching.messages)).toEqual([6, 8].map((i) => metricFrame(i).start))
    // A runner from before packed frames.
    state.activity = { ...state.activity, packed: undefined, frames: [8, 9].map(metricFrame) }
    await until(() => starts(watching.messages).length === 3)
    expect(starts(watching.messages)).toEqual([6, 8, 9].map((i) => metricFrame(i).start))
  })

  it('unpacks at most a runner\'s window of packed frames per heartbeat, and a frame that failed once never again', async () => {
    const { state, relay } = fakes()
    const chunk = { fromSeq: 1, lines: [line(1)], lastSeq: 1 }
    // A hostile runner: 100 gzip bombs (each 2 MB unpacked) under distinct new periods, then one real frame.
    const bombOf = (i: number) => ({ start: metricFrame(i).start, gz: gzipSync(' '.repeat(2 * 1024 * 1024)).toString('base64') })
    const hostile = [...Array.from({ length: 100 }, (_, i) => bombOf(i + 1)), packed(200)]
    state.activity = { name: 'executeK6', started: true, k6Started: true, chunk, packed: hostile }
    const watching = viewer()
    await relay.attach('r', 0, watching.sink, { metricsAfter: 0 })
    await until(() => starts(watching.messages).length === 1)
    expect(starts(watching.messages)).toEqual([metricFrame(200).start])
    // The same heartbeat read again and again: nothing newer than the real frame is left to unpack.
    const unpacked = relay.framesUnpacked
    expect(unpacked).toBeLessThanOrEqual(HEARTBEAT_FRAMES.frames)
    // Bombs newer than every good frame are tried once each, not on every tick.
    state.activity = { ...state.activity, packed: [201, 202, 203].map(bombOf) }
    let describes = state.describes
    await until(() => state.describes > describes + 5)
    expect(relay.framesUnpacked).toBe(unpacked + 3)
    describes = state.describes
    await until(() => state.describes > describes + 5)
    expect(relay.framesUnpacked).toBe(unpacked + 3)
    // A real frame after them still arrives.
    state.activity = { ...state.activity, packed: [...[201, 202, 203].map(bombOf), packed(204)] }
    await until(() => starts(watching.messages).length === 2)
    expect(starts(watching.messages)).toEqual([200, 204].map((i) => metricFrame(i).start))
  })
})

describe('ConsoleRelay, packed earlier lines', () => {
  it('gives a viewer who comes in mid-run the window\'s earlier lines, unpacked only when the feed lacks them', async () => {
    const { state, relay } = fakes()
    state.activity = { name: 'executeK6', started: true, k6Started: true, chunk: { fromSeq: 201, lines: [201, 202].map(line), lastSeq: 202, earlier: packLines(range(1, 200).map(line)) } }
    const a = viewer()
    await relay.attach('r', 0, a.sink)
    await until(() => a.seqs().length === 202)
    expect(a.seqs()).toEqual(range(1, 202))
    expect(relay.linesUnpacked).toBe(1)
    // The next heartbeats: their earlier lines are lines the feed has, never unpacked again.
    state.activity = { ...state.activity, chunk: { fromSeq: 203, lines: [203].map(line), lastSeq: 203, earlier: packLines(range(4, 202).map(line)) } }
    await until(() => a.seqs().length === 203)
    const describes = state.describes
    await until(() => state.describes > describes + 5)
    expect(relay.linesUnpacked).toBe(1)
    expect(a.seqs()).toEqual(range(1, 203))
  })

  it('fills the lines it missed between polls from the earlier lines', async () => {
    const { state, relay } = fakes()
    state.activity = { name: 'executeK6', started: true, k6Started: true, chunk: { fromSeq: 1, lines: [1, 2].map(line), lastSeq: 2 } }
    const a = viewer()
    await relay.attach('r', 0, a.sink)
    await until(() => a.seqs().length === 2)
    // Heartbeats the relay did not read: lines 3–9 are earlier lines by now.
    state.activity = { ...state.activity, chunk: { fromSeq: 10, lines: [10].map(line), lastSeq: 10, earlier: packLines(range(1, 9).map(line)) } }
    await until(() => a.seqs().length === 10)
    expect(a.seqs()).toEqual(range(1, 10))
    expect(a.messages.some((m) => m.type === 'gap')).toBe(false)
  })

  it('bounds what a runner\'s packed lines cost: one gunzip of at most EARLIER_LINES_BYTES per range, never retried', async () => {
    const { state, relay } = fakes()
    state.activity = { name: 'executeK6', started: true, k6Started: true, chunk: { fromSeq: 1, lines: [1].map(line), lastSeq: 1 } }
    const a = viewer()
    await relay.attach('r', 0, a.sink)
    await until(() => a.seqs().length === 1)
    // A hostile runner: a gzip bomb of 8 MB as lines 2–99, then lines that lie about their range.
    const bomb = { fromSeq: 2, lastSeq: 99, gz: gzipSync(' '.repeat(16 * EARLIER_LINES_BYTES)).toString('base64') }
    state.activity = { ...state.activity, chunk: { fromSeq: 100, lines: [100].map(line), lastSeq: 100, earlier: bomb } }
    await until(() => a.seqs().length === 2)
    expect(a.seqs()).toEqual([1, 100])
    expect(a.messages.find((m) => m.type === 'gap')).toMatchObject({ from: 2, to: 99 })
    const unpacked = relay.linesUnpacked
    const lying = { ...packLines(range(101, 110).map(line))!, fromSeq: 101, lastSeq: 120 }
    state.activity = { ...state.activity, chunk: { fromSeq: 121, lines: [121].map(line), lastSeq: 121, earlier: lying } }
    await until(() => a.seqs().length === 3)
    const describes = state.describes
    await until(() => state.describes > describes + 5)
    expect(relay.linesUnpacked).toBe(unpacked + 1)
    expect(a.seqs()).toEqual([1, 100, 121])
  })
})

describe('ConsoleRelay', () => {
  it('relays overlapping chunks once each, in order, to every viewer from one poller', async () => {
    const { state, relay } = fakes()
    const a = viewer()
    const b = viewer()
    state.chunk = { fromSeq: 1, lines: [1, 2, 3].map(line), lastSeq: 3 }
    await relay.attach('r', 0, a.sink)
    await relay.attach('r', 0, b.sink)
    expect(relay.activePollers).toBe(1)
    await until(() => a.seqs().length === 3)
    state.chunk = { fromSeq: 2, lines: [2, 3, 4, 5].map(line), lastSeq: 5 }
    await until(() => a.seqs().length === 5 && b.seqs().length === 5)
    expect(a.seqs()).toEqual([1, 2, 3, 4, 5])
    expect(b.seqs()).toEqual([1, 2, 3, 4, 5])
  })

  it('announces the exact missing range when a chunk skips ahead', async () => {
    const { state, relay } = fakes()
    const a = viewer()
    state.chunk = { fromSeq: 1, lines: [1, 2].map(line), lastSeq: 2 }
    await relay.attach('r', 0, a.sink)
    await until(() => a.seqs().length === 2)
    state.chunk = { fromSeq: 6, lines: [6, 7].map(line), lastSeq: 7 }
    await until(() => a.seqs().length === 4)
    const gap = a.messages.find((m) => m.type === 'gap')
    expect(gap).toMatchObject({ type: 'gap', from: 3, to: 5, log: { runId: 'r', artifact: 'log' } })
  })

  it('resumes a reconnecting viewer after its last seq without repeats', async () => {
    const { state, relay } = fakes()
    state.chunk = { fromSeq: 1, lines: [1, 2, 3, 4].map(line), lastSeq: 4 }
    const first = viewer()
    const detach = await relay.attach('r', 0, first.sink)
    await until(() => first.seqs().length === 4)
    detach()
    const again = viewer()
    await relay.attach('r', 2, again.sink)
    expect(again.seqs()).toEqual([3, 4])
  })

  it('reads the console of an awaitK6 activity (a runner re-attached to its k6) and k6 heartbeats', async () => {
    const { state, relay } = fakes()
    state.activity = { name: 'awaitK6', started: true, k6Started: true, chunk: { fromSeq: 1, lines: [1, 2].map(line), lastSeq: 2 } }
    const a = viewer()
    await relay.attach('r', 0, a.sink)
    await until(() => a.seqs().length === 2)
    expect(a.statuses().at(-1)).toEqual({ type: 'status', status: 'running', waitingForRunner: false })
  })

  it('sends the archived tail and the final status when the workflow closes', async () => {
    const { state, relay } = fakes()
    state.chunk = { fromSeq: 1, lines: [1, 2].map(line), lastSeq: 2 }
    const a = viewer()
    await relay.attach('r', 0, a.sink)
    await until(() => a.seqs().length === 2)
    state.archive = [1, 2, 3, 4].map(line)
    state.status = 'passed'
    state.workflowOpen = false
    await until(() => a.closed)
    expect(a.seqs()).toEqual([1, 2, 3, 4])
    expect(a.messages.at(-1)).toEqual({ type: 'end', status: 'passed', lastSeq: 4 })
    expect(relay.feedCount).toBe(0)
  })

  it('replays a finished run from the archive without polling Temporal', async () => {
    const { state, relay } = fakes()
    state.status = 'failed'
    state.archive = [1, 2, 3].map(line)
    const a = viewer()
    await relay.attach('r', 1, a.sink)
    expect(a.seqs()).toEqual([2, 3])
    expect(a.messages.at(-1)).toEqual({ type: 'end', status: 'failed', lastSeq: 3 })
    expect(state.describes).toBe(0)
  })

  describe('every viewer gets an end', () => {
    it('retries the reads at the end when the database (and S3) fail, then ends every viewer', async () => {
      const { state, relay } = fakes()
      state.chunk = { fromSeq: 1, lines: [1, 2].map(line), lastSeq: 2 }
      const a = viewer()
      const b = viewer()
      await relay.attach('r', 0, a.sink)
      await relay.attach('r', 0, b.sink)
      await until(() => a.seqs().length === 2 && b.seqs().length === 2)
      // The run finishes at the moment the API loses its database, and S3 with it.
      state.failDb = () => true
      state.failStorage = true
      state.archive = [1, 2, 3].map(line)
      state.status = 'passed'
      state.workflowOpen = false
      await until(() => state.dbFailures >= 3)
      expect(a.closed || b.closed).toBe(false)
      state.failDb = undefined // the database is back; S3 not yet
      await until(() => state.storageFailures >= 2)
      expect(a.closed || b.closed).toBe(false)
      state.failStorage = false
      await until(() => a.closed && b.closed)
      for (const v of [a, b]) {
        expect(v.seqs()).toEqual([1, 2, 3])
        expect(v.messages.at(-1)).toEqual({ type: 'end', status: 'passed', lastSeq: 3 })
        expect(v.closeCode).toBe(1000)
      }
      expect(relay.feedCount).toBe(0)
    })

    it('gives a viewer that joins while the end is being retried its end too', async () => {
      const { state, relay } = fakes()
      state.chunk = { fromSeq: 1, lines: [1].map(line), lastSeq: 1 }
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      await until(() => a.seqs().length === 1)
      // Only the end's reads fail; a new viewer's own read works.
      state.failDb = ({ withLocation }) => !withLocation
      state.archive = [1, 2].map(line)
      state.status = 'failed'
      state.workflowOpen = false
      await until(() => state.dbFailures >= 2)
      const late = viewer()
      await relay.attach('r', 0, late.sink)
      state.failDb = undefined
      await until(() => a.closed && late.closed)
      expect(a.seqs()).toEqual([1, 2])
      expect(late.seqs()).toEqual([1, 2])
      expect(late.messages.at(-1)).toEqual({ type: 'end', status: 'failed', lastSeq: 2 })
    })

    it('drops a feed whose end failed once nobody waits, and a new viewer gets its end', async () => {
      const { state, relay } = fakes()
      state.chunk = { fromSeq: 1, lines: [1, 2].map(line), lastSeq: 2 }
      const a = viewer()
      const detach = await relay.attach('r', 0, a.sink)
      await until(() => a.seqs().length === 2)
      state.failDb = () => true
      state.status = 'passed'
      state.workflowOpen = false
      await until(() => state.dbFailures >= 2)
      detach() // the viewer gives up
      await until(() => relay.feedCount === 0)
      // The database is back; the archive was never stored (an old runner, a lost upload).
      state.failDb = undefined
      const next = viewer()
      await relay.attach('r', 0, next.sink)
      await until(() => next.closed)
      expect(next.messages.at(-1)).toEqual({ type: 'end', status: 'passed', lastSeq: 0 })
      expect(relay.feedCount).toBe(0)
    })

    it('follows a finished run whose console is not archived yet until its workflow closes', async () => {
      const { state, relay } = fakes()
      state.status = 'passed' // recorded; the artifacts are still being stored
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      await until(() => a.statuses().length > 0)
      expect(a.statuses()[0]).toMatchObject({ status: 'passed' })
      expect(a.closed).toBe(false)
      state.archive = [1, 2, 3].map(line)
      state.workflowOpen = false
      await until(() => a.closed)
      expect(a.seqs()).toEqual([1, 2, 3])
      expect(a.messages.at(-1)).toEqual({ type: 'end', status: 'passed', lastSeq: 3 })
    })
  })

  describe('gap fill', () => {
    /** Each seq in 1..last exactly once across lines and fills, and every fill inside a gap the viewer was told about. */
    function expectComplete(v: ReturnType<typeof viewer>, last: number) {
      expect([...v.held()].sort((x, y) => x - y)).toEqual(range(1, last))
      const gaps = v.of('gap')
      for (const fill of v.of('fill')) {
        expect(gaps.some((g) => g.from <= fill.from && fill.to <= g.to)).toBe(true)
        expect(fill.lines.every((l) => l.seq >= fill.from && l.seq <= fill.to)).toBe(true)
      }
    }

    it('fills announced gaps from the archive as soon as it is stored, before the status and the end', async () => {
      const { state, relay } = fakes({ bufferLines: 3 })
      state.chunk = { fromSeq: 1, lines: [1, 2].map(line), lastSeq: 2 }
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      await until(() => a.seqs().length === 2)
      state.chunk = { fromSeq: 6, lines: [6, 7].map(line), lastSeq: 7 }
      await until(() => a.seqs().length === 4)
      // A viewer that comes late: the relay holds only 2, 6, 7 now.
      const b = viewer()
      await relay.attach('r', 0, b.sink)
      expect(b.of('gap').map((g) => [g.from, g.to])).toEqual([
        [1, 1],
        [3, 5],
      ])
      // k6 ends: its activity is gone, the archive is stored, the workflow goes on (result, artifacts).
      state.chunk = undefined
      state.archive = range(1, 9).map(line)
      await until(() => a.of('fill').length > 0 && b.of('fill').length > 0)
      await until(() => a.held().length === 9 && b.held().length === 9)
      expect(a.closed || b.closed).toBe(false)
      state.status = 'passed'
      await until(() => b.statuses().some((s) => s.status === 'passed'))
      state.workflowOpen = false
      await until(() => a.closed && b.closed)
      for (const v of [a, b]) {
        expectComplete(v, 9)
        expect(v.messages.at(-1)).toEqual({ type: 'end', status: 'passed', lastSeq: 9 })
      }
      expect(a.of('fill').map((f) => [f.from, f.to, f.lines.length])).toEqual([[3, 5, 3]])
    })

    it('fills the gaps of a viewer that resumed past the relay buffer at the end, in parts', async () => {
      const { state, relay } = fakes({ bufferLines: 2 })
      state.chunk = { fromSeq: 2990, lines: range(2990, 3000).map(line), lastSeq: 3000 }
      const a = viewer()
      await relay.attach('r', 500, a.sink) // reconnects after seq 500; the relay holds 2999 and 3000
      await until(() => a.seqs().length === 2)
      expect(a.of('gap').map((g) => [g.from, g.to])).toEqual([[501, 2998]])
      state.archive = range(1, 3001).map(line)
      state.status = 'failed'
      state.workflowOpen = false
      await until(() => a.closed)
      // Only what the viewer lacked: 501..2998 (in fills of at most 1000 lines), then the tail 3001.
      expect([...a.held()].sort((x, y) => x - y)).toEqual(range(501, 3001))
      expect(a.of('fill').map((f) => [f.from, f.to])).toEqual([
        [501, 1500],
        [1501, 2500],
        [2501, 2998],
      ])
      expect(a.messages.at(-1)).toEqual({ type: 'end', status: 'failed', lastSeq: 3001 })
    })

    it('cuts fills of long lines at about 256 KiB per message', async () => {
      const { state, relay } = fakes({ bufferLines: 1 })
      const long = (seq: number): ConsoleLine => ({ ...line(seq), text: `${seq} `.padEnd(100_000, 'x') })
      state.chunk = { fromSeq: 6, lines: [long(6)], lastSeq: 6 }
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      await until(() => a.seqs().length === 1)
      expect(a.of('gap').map((g) => [g.from, g.to])).toEqual([[1, 5]])
      state.archive = range(1, 6).map(long)
      state.status = 'passed'
      state.workflowOpen = false
      await until(() => a.closed)
      expect(a.of('fill').map((f) => [f.from, f.to, f.lines.length])).toEqual([
        [1, 2, 2],
        [3, 4, 2],
        [5, 5, 1],
      ])
      expect([...a.held()].sort((x, y) => x - y)).toEqual(range(1, 6))
    })

    it('sends no fill when the run ends without an archived console: the gap stays a gap', async () => {
      const { state, relay } = fakes({ bufferLines: 2 })
      state.chunk = { fromSeq: 5, lines: [5, 6].map(line), lastSeq: 6 }
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      await until(() => a.seqs().length === 2)
      state.status = 'error'
      state.workflowOpen = false
      await until(() => a.closed)
      expect(a.of('gap').map((g) => [g.from, g.to])).toEqual([[1, 4]])
      expect(a.of('fill')).toEqual([])
      expect(a.messages.at(-1)).toEqual({ type: 'end', status: 'error', lastSeq: 6 })
    })
  })

  describe('status', () => {
    it('stays running after k6 ends until the row has the outcome, which comes before the end', async () => {
      const { state, relay } = fakes()
      state.status = 'queued'
      state.activity = { name: 'executeK6', started: false }
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      await until(() => a.statuses().length === 1)
      state.activity = { name: 'executeK6', started: true, k6Started: true, heartbeatAt: 'now', chunk: { fromSeq: 1, lines: [line(1)], lastSeq: 1 } }
      await until(() => a.statuses().some((s) => s.status === 'running'))
      // k6 ended; the result is being recorded (the row still says running), then the workflow goes on storing artifacts.
      state.activity = undefined
      const describes = state.describes
      await until(() => state.describes > describes + 10)
      state.status = 'passed'
      await until(() => a.statuses().some((s) => s.status === 'passed'))
      expect(a.closed).toBe(false)
      state.archive = [line(1)]
      state.workflowOpen = false
      await until(() => a.closed)
      expect(a.statuses().map((s) => s.status)).toEqual(['queued', 'running', 'passed'])
      expect(a.messages.at(-1)).toEqual({ type: 'end', status: 'passed', lastSeq: 1 })
    })

    it('reports running, not queued, to a viewer that joins after k6 ended', async () => {
      const { state, relay } = fakes()
      state.status = 'running'
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      await until(() => a.statuses().length === 1)
      const describes = state.describes
      await until(() => state.describes > describes + 10)
      expect(a.statuses()).toEqual([{ type: 'status', status: 'running', waitingForRunner: false }])
    })

    it('keeps a run running while its lost k6 waits for its runner (awaitK6 scheduled), and says queued only before', async () => {
      const { state, relay } = fakes()
      state.status = 'queued'
      state.activity = { name: 'executeK6', started: true, k6Started: false, chunk: { fromSeq: 1, lines: [], lastSeq: 0 }, heartbeatAt: 'now' }
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      await until(() => a.statuses().length === 1)
      expect(a.statuses()[0]).toMatchObject({ status: 'queued', waitingForRunner: false })
      state.activity = { name: 'executeK6', started: true, k6Started: true, chunk: { fromSeq: 1, lines: [line(1)], lastSeq: 1 }, heartbeatAt: 'now' }
      await until(() => a.statuses().some((s) => s.status === 'running'))
      state.activity = { name: 'awaitK6', started: false }
      const describes = state.describes
      await until(() => state.describes > describes + 10)
      expect(a.statuses().map((s) => s.status)).toEqual(['queued', 'running'])
    })

    it('reports a silent runner with runnerSilentSeconds and clears it when the runner is heard again', async () => {
      const { state, relay } = fakes()
      // The runner's last heartbeat was 7 s ago (a viewer opens the run of a runner that went quiet).
      state.activity = { name: 'executeK6', started: true, k6Started: true, chunk: { fromSeq: 1, lines: [line(1)], lastSeq: 1 }, heartbeatAt: Date.now() - 7000 }
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      await until(() => a.statuses().some((s) => s.runnerSilentSeconds !== undefined))
      const silent = a.statuses().find((s) => s.runnerSilentSeconds !== undefined)!
      expect(silent).toMatchObject({ status: 'running', waitingForRunner: false })
      expect(silent.runnerSilentSeconds).toBeGreaterThanOrEqual(7)
      // It answers again.
      state.activity = { ...state.activity, heartbeatAt: 'now' }
      await until(() => a.statuses().at(-1)!.runnerSilentSeconds === undefined)
      expect(a.statuses().at(-1)).toEqual({ type: 'status', status: 'running', waitingForRunner: false })
    })
  })

  describe('frames', () => {
    it('sends each tick\'s new lines as one message, serialised once and shared by every viewer at the head', async () => {
      const { state, relay } = fakes()
      const viewers = [viewer(), viewer(), viewer()]
      state.chunk = { fromSeq: 1, lines: [1, 2].map(line), lastSeq: 2 }
      for (const v of viewers) await relay.attach('r', 0, v.sink)
      await until(() => viewers.every((v) => v.seqs().length === 2))
      const frames = relay.framesSerialised
      const shared = viewers.map((v) => v.serialised.length)
      // Four lines in one heartbeat, a skipped range in the next: one frame each, whatever the viewer count.
      state.chunk = { fromSeq: 1, lines: range(1, 6).map(line), lastSeq: 6 }
      await until(() => viewers.every((v) => v.seqs().length === 6))
      state.chunk = { fromSeq: 9, lines: [9, 10].map(line), lastSeq: 10 }
      await until(() => viewers.every((v) => v.seqs().length === 8))
      expect(relay.framesSerialised - frames).toBe(2)
      const [first, ...others] = viewers.map((v, i) => v.serialised.slice(shared[i]))
      expect(first!.length).toBe(3) // lines 3–6, then gap 7–8 and lines 9–10
      for (const o of others) {
        expect(o.length).toBe(first!.length)
        // The very same bytes, not equal copies.
        o.forEach((data, i) => expect(data).toBe(first![i]))
      }
      for (const v of viewers) {
        expect(v.messages.filter((m) => m.type === 'lines').map((m) => (m.type === 'lines' ? m.lines.map((l) => l.seq) : []))).toEqual([[1, 2], [3, 4, 5, 6], [9, 10]])
        expect(v.of('gap').map((g) => [g.from, g.to])).toEqual([[7, 8]])
      }
    })

    it('gives a viewer that is behind its own catch-up and then the shared frames', async () => {
      const { state, relay } = fakes()
      const a = viewer()
      state.chunk = { fromSeq: 1, lines: range(1, 5).map(line), lastSeq: 5 }
      await relay.attach('r', 0, a.sink)
      await until(() => a.seqs().length === 5)
      const late = viewer()
      await relay.attach('r', 2, late.sink)
      expect(late.of('lines').map((m) => m.lines.map((l) => l.seq))).toEqual([[3, 4, 5]])
      state.chunk = { fromSeq: 4, lines: range(4, 7).map(line), lastSeq: 7 }
      await until(() => late.seqs().length === 5 && a.seqs().length === 7)
      expect(late.serialised.at(-1)).toBe(a.serialised.at(-1))
      expect(late.seqs()).toEqual(range(3, 7))
    })

    it('replays an archived console in bounded messages: at most 1000 lines and about 256 KiB each', async () => {
      const { state, relay } = fakes()
      state.status = 'passed'
      state.archive = range(1, 2500).map(line)
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      expect(a.of('lines').map((m) => m.lines.length)).toEqual([1000, 1000, 500])
      expect(a.seqs()).toEqual(range(1, 2500))
      state.archive = range(1, 5).map((seq) => ({ ...line(seq), text: 'x'.repeat(100_000) }))
      const b = viewer()
      await relay.attach('r', 0, b.sink)
      expect(b.of('lines').map((m) => m.lines.length)).toEqual([2, 2, 1])
      expect(b.messages.at(-1)).toEqual({ type: 'end', status: 'passed', lastSeq: 5 })
    })
  })

  describe('back-pressure', () => {
    it('skips a congested viewer without holding the others up; once drained it catches up, every line once', async () => {
      const { state, relay } = fakes()
      const fast = [viewer(), viewer()]
      const slow = viewer()
      state.chunk = { fromSeq: 1, lines: [1].map(line), lastSeq: 1 }
      for (const v of [...fast, slow]) await relay.attach('r', 0, v.sink)
      await until(() => [...fast, slow].every((v) => v.seqs().length === 1))
      slow.sink.bufferedAmount = 2 * 1024 * 1024 // more than the 1 MiB default waits in its connection
      for (let last = 2; last <= 6; last++) {
        state.chunk = { fromSeq: 1, lines: range(1, last).map(line), lastSeq: last }
        await until(() => fast.every((v) => v.seqs().length === last))
      }
      const describes = state.describes
      await until(() => state.describes > describes + 3)
      expect(slow.seqs()).toEqual([1])
      // The fast viewers got every tick's frame as it came.
      for (const v of fast) expect(v.of('lines').map((m) => m.lines.map((l) => l.seq))).toEqual([[1], [2], [3], [4], [5], [6]])
      slow.sink.bufferedAmount = 0 // drained
      await until(() => slow.seqs().length === 6)
      expect(slow.of('lines').map((m) => m.lines.map((l) => l.seq))).toEqual([[1], [2, 3, 4, 5, 6]])
      expect(slow.of('gap')).toEqual([])
      // From then on it shares the frames again.
      state.chunk = { fromSeq: 5, lines: range(5, 7).map(line), lastSeq: 7 }
      await until(() => slow.seqs().length === 7 && fast.every((v) => v.seqs().length === 7))
      expect(slow.serialised.at(-1)).toBe(fast[0]!.serialised.at(-1))
      state.archive = range(1, 7).map(line)
      state.status = 'passed'
      state.workflowOpen = false
      await until(() => slow.closed && fast.every((v) => v.closed))
      for (const v of [...fast, slow]) expect(v.held()).toEqual(range(1, 7))
    })

    it('tells a viewer congested past the buffer the gap, and fills it from the archive before the end', async () => {
      const { state, relay } = fakes({ bufferLines: 3 })
      const fast = viewer()
      const slow = viewer()
      state.chunk = { fromSeq: 1, lines: [1, 2].map(line), lastSeq: 2 }
      await relay.attach('r', 0, fast.sink)
      await relay.attach('r', 0, slow.sink)
      await until(() => fast.seqs().length === 2 && slow.seqs().length === 2)
      slow.sink.bufferedAmount = 5 * 1024 * 1024
      for (let last = 4; last <= 10; last += 2) {
        state.chunk = { fromSeq: last - 1, lines: [last - 1, last].map(line), lastSeq: last }
        await until(() => fast.seqs().length === last)
      }
      expect(slow.seqs()).toEqual([1, 2])
      slow.sink.bufferedAmount = 0
      // The relay holds 8, 9, 10 now: 3–7 are announced, the rest comes as lines.
      await until(() => slow.seqs().length === 5)
      expect(slow.of('gap').map((g) => [g.from, g.to])).toEqual([[3, 7]])
      expect(fast.of('gap')).toEqual([])
      state.chunk = undefined
      state.archive = range(1, 10).map(line)
      await until(() => slow.of('fill').length > 0)
      expect(slow.of('fill').map((f) => [f.from, f.to, f.lines.length])).toEqual([[3, 7, 5]])
      state.status = 'passed'
      state.workflowOpen = false
      await until(() => slow.closed && fast.closed)
      for (const v of [fast, slow]) {
        expect([...v.held()].sort((x, y) => x - y)).toEqual(range(1, 10))
        expect(v.messages.at(-1)).toEqual({ type: 'end', status: 'passed', lastSeq: 10 })
      }
    })

    it('gives a viewer still congested at the end everything it lacks before its end', async () => {
      const { state, relay } = fakes()
      const slow = viewer()
      state.chunk = { fromSeq: 1, lines: [1].map(line), lastSeq: 1 }
      await relay.attach('r', 0, slow.sink)
      await until(() => slow.seqs().length === 1)
      slow.sink.bufferedAmount = 5 * 1024 * 1024
      state.chunk = { fromSeq: 1, lines: range(1, 4).map(line), lastSeq: 4 }
      const describes = state.describes
      await until(() => state.describes > describes + 3)
      expect(slow.seqs()).toEqual([1])
      state.archive = range(1, 4).map(line)
      state.status = 'passed'
      state.workflowOpen = false
      await until(() => slow.closed)
      expect(slow.seqs()).toEqual(range(1, 4))
      expect(slow.messages.at(-1)).toEqual({ type: 'end', status: 'passed', lastSeq: 4 })
    })
  })

  describe('polling', () => {
    /** A watched run whose k6 activity no runner has taken; `startingSoon`: one serving its location has a free slot. */
    async function queuedRun(options: Parameters<typeof fakes>[0], startingSoon: boolean) {
      const { state, relay } = fakes(options)
      state.status = 'queued'
      state.activity = { name: 'executeK6', started: false }
      state.startingSoon = startingSoon
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      return { state, relay, a }
    }

    it('reads a queued run at most every queuedPollMs and a running one at the console tick', async () => {
      // Every k6 slot of its location's runners taken (or no runner): nothing starts it soon.
      const { state, relay, a } = await queuedRun({ pollMs: 5, queuedPollMs: 200 }, false)
      await until(() => a.statuses().length === 1)
      expect(a.statuses()[0]).toMatchObject({ status: 'queued' })
      const since = Date.now()
      const queuedDescribes = relay.describeCalls
      await until(() => Date.now() - since >= 1000)
      // At 5 ms it would be ~200 calls; at 200 ms at most 5 (+1 for the timer in flight).
      expect(relay.describeCalls - queuedDescribes).toBeLessThanOrEqual(6)
      expect(relay.describeCalls).toBe(state.describes)
      // It starts: the status moves within one slow period, and polling goes to the tick.
      state.status = 'running'
      state.activity = { name: 'executeK6', started: true, k6Started: true, heartbeatAt: 'now', chunk: { fromSeq: 1, lines: [line(1)], lastSeq: 1 } }
      const startedAt = Date.now()
      await until(() => a.statuses().some((s) => s.status === 'running'))
      expect(Date.now() - startedAt).toBeLessThan(1000)
      const running = relay.describeCalls
      const runningSince = Date.now()
      await until(() => relay.describeCalls >= running + 20)
      expect(Date.now() - runningSince).toBeLessThan(2000)
    })

    it('reads a queued run at the console tick while a runner serving its location has a free slot, so its first lines are not held back', async () => {
      const { state, relay, a } = await queuedRun({ pollMs: 5, queuedPollMs: 60_000 }, true)
      await until(() => relay.describeCalls >= 10)
      expect(a.statuses()).toEqual([expect.objectContaining({ status: 'queued' })])
      // The runner takes it and k6 prints at once: with a 60 s queued period, only the tick brings it.
      state.activity = { name: 'executeK6', started: true, k6Started: true, heartbeatAt: 'now', chunk: { fromSeq: 1, lines: [line(1)], lastSeq: 1 } }
      await until(() => a.seqs().length === 1)
    })

    it('goes back to the slow read for a run still queued startingSoonMs after a runner had a free slot', async () => {
      const { relay, a } = await queuedRun({ pollMs: 5, queuedPollMs: 60_000, startingSoonMs: 300 }, true)
      await until(() => relay.describeCalls >= 10)
      // The fast window ends; the next read comes a queued period (60 s) later: at most the one in flight.
      await new Promise((resolve) => setTimeout(resolve, 400))
      const after = relay.describeCalls
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(relay.describeCalls - after).toBeLessThanOrEqual(1)
      expect(a.statuses()).toEqual([expect.objectContaining({ status: 'queued' })])
    })

    it('reads a queued run a runner has taken (k6 still loading the script) at the console tick', async () => {
      const { state, relay } = fakes({ pollMs: 5, queuedPollMs: 60_000 })
      state.status = 'queued'
      state.activity = { name: 'executeK6', started: true, k6Started: false, heartbeatAt: 'now', chunk: { fromSeq: 1, lines: [line(1)], lastSeq: 1 } }
      const a = viewer()
      await relay.attach('r', 0, a.sink)
      await until(() => a.seqs().length === 1)
      expect(a.statuses()[0]).toMatchObject({ status: 'queued' })
      // The init code prints again: with a 60 s queued period, only the console tick brings it.
      state.activity = { ...state.activity, chunk: { fromSeq: 1, lines: [line(1), line(2)], lastSeq: 2 } }
      await until(() => a.seqs().length === 2)
      expect(relay.describeCalls).toBeGreaterThan(1)
    })
  })

  describe('stop', () => {
    it('tells every viewer to reconnect and closes with 1012, without an end', async () => {
      const { state, relay } = fakes()
      state.chunk = { fromSeq: 1, lines: [1, 2].map(line), lastSeq: 2 }
      const a = viewer()
      const b = viewer()
      await relay.attach('r', 0, a.sink)
      await relay.attach('other', 0, b.sink)
      await until(() => a.seqs().length === 2 && b.seqs().length === 2)
      await relay.stop()
      for (const v of [a, b]) {
        expect(v.messages.at(-1)).toMatchObject({ type: 'reconnect' })
        expect(v.of('end')).toEqual([])
        expect(v.closeCode).toBe(1012)
      }
      // A viewer arriving while the API stops is sent on too.
      const late = viewer()
      await relay.attach('r', 0, late.sink)
      expect(late.messages).toEqual([{ type: 'reconnect', reason: expect.any(String) }])
      expect(late.closeCode).toBe(1012)
    })
  })
})
