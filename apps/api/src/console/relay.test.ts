// The relay against fakes at its boundaries (Temporal's describe(), the database, S3):
// one poller per run whatever the viewer count, dedupe by seq across overlapping chunks,
// gaps announced with the missing range, resume from `after`, and the archive tail at the end.
import { afterEach, describe, expect, it } from 'vitest'
import { defaultPayloadConverter } from '@temporalio/common'
import proto from '@temporalio/proto'
import type { Client } from '@temporalio/client'
import type { Db } from '@stampede/db'
import type { ConsoleLine, ConsoleMessage } from '@stampede/shared'
import type { Storage } from '@stampede/storage'
import { ConsoleRelay } from './relay.ts'
import type { RunnerPresence } from '../runs/presence.ts'

const { temporal } = proto
const line = (seq: number): ConsoleLine => ({ seq, stream: 'stdout', text: `line ${seq}`, time: '2026-01-01T00:00:00.000Z' })

function fakes() {
  const state = {
    status: 'running' as string,
    workflowOpen: true,
    chunk: undefined as { fromSeq: number; lines: ConsoleLine[]; lastSeq: number } | undefined,
    archive: [] as ConsoleLine[],
    describes: 0,
  }
  const db = {
    run: { findUnique: async () => ({ status: state.status, locationId: 'us-east', consoleLines: null }) },
  } as unknown as Db
  const client = {
    workflow: {
      getHandle: () => ({
        describe: async () => {
          state.describes++
          return {
            status: { name: state.workflowOpen ? 'RUNNING' : 'COMPLETED' },
            raw: {
              pendingActivities: state.chunk
                ? [
                    {
                      activityType: { name: 'executeK6' },
                      state: temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
                      heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(state.chunk)] },
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
    getBytes: async () => Buffer.from(state.archive.map((l) => JSON.stringify(l) + '\n').join('')),
  } as unknown as Storage
  const presence = { of: async () => ({ runnerAvailable: true, pollers: 1 }) } as unknown as RunnerPresence
  const relay = new ConsoleRelay({ db, temporal: client, storage, presence, pollMs: 5, lingerMs: 1000 })
  return { state, relay }
}

function viewer() {
  const messages: ConsoleMessage[] = []
  let closed = false
  return {
    messages,
    get closed() {
      return closed
    },
    seqs: () => messages.flatMap((m) => (m.type === 'line' ? [m.seq] : [])),
    sink: { send: (m: ConsoleMessage) => messages.push(m), close: () => (closed = true) },
  }
}

const until = async (cond: () => boolean) => {
  const deadline = Date.now() + 3000
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

describe('ConsoleRelay', () => {
  it('relays overlapping chunks once each, in order, to every viewer from one poller', async () => {
    const { state, relay } = fakes()
    relays.push(relay)
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
    relays.push(relay)
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
    relays.push(relay)
    state.chunk = { fromSeq: 1, lines: [1, 2, 3, 4].map(line), lastSeq: 4 }
    const first = viewer()
    const detach = await relay.attach('r', 0, first.sink)
    await until(() => first.seqs().length === 4)
    detach()
    const again = viewer()
    await relay.attach('r', 2, again.sink)
    expect(again.seqs()).toEqual([3, 4])
  })

  it('sends the archived tail and the final status when the workflow closes', async () => {
    const { state, relay } = fakes()
    relays.push(relay)
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
  })

  it('replays a finished run from the archive without polling Temporal', async () => {
    const { state, relay } = fakes()
    relays.push(relay)
    state.status = 'failed'
    state.archive = [1, 2, 3].map(line)
    const a = viewer()
    await relay.attach('r', 1, a.sink)
    expect(a.seqs()).toEqual([2, 3])
    expect(a.messages.at(-1)).toEqual({ type: 'end', status: 'failed', lastSeq: 3 })
    expect(state.describes).toBe(0)
  })
})
