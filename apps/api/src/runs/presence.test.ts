// RunnerPresence against a fake Temporal client (list and describe): what a queued run is told,
// and whether a runner is about to take it, from the runners' last presence beats.
import type { Client } from '@temporalio/client'
import { defaultPayloadConverter } from '@temporalio/common'
import proto from '@temporalio/proto'
import { describe, expect, it } from 'vitest'
import { ACTIVITY, type PresenceBeat } from '@stampede/shared/temporal'
import { RunnerPresence } from './presence.ts'

const STARTED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
const NOW = 1_796_000_000_000

function runner(id: string, locations: string[], slots: PresenceBeat['slots'], beatAgoMs = 1000): PresenceBeat & { beatAgoMs: number } {
  return { runnerId: id, locations, slots, sandbox: 'bubblewrap', startedAt: new Date(NOW - 60_000).toISOString(), beatAgoMs }
}

/** A client whose presence workflows are these runners, each heartbeating its beat `beatAgoMs` ago. */
function clientOf(runners: ReturnType<typeof runner>[]): Client {
  return {
    workflow: {
      list: async function* () {
        for (const r of runners) yield { workflowId: `presence-${r.runnerId}` }
      },
      getHandle: (workflowId: string) => ({
        describe: async () => {
          const { beatAgoMs, ...beat } = runners.find((r) => `presence-${r.runnerId}` === workflowId)!
          const at = NOW - beatAgoMs
          return {
            raw: {
              pendingActivities: [
                {
                  activityType: { name: ACTIVITY.runnerPresence },
                  state: STARTED,
                  lastHeartbeatTime: { seconds: Math.floor(at / 1000), nanos: (at % 1000) * 1e6 },
                  heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(beat)] },
                },
              ],
            },
          }
        },
      }),
    },
  } as unknown as Client
}

describe('RunnerPresence.queued', () => {
  it('says a queued run starts soon only while a live runner serving its location has a free k6 slot', async () => {
    const presence = new RunnerPresence(
      clientOf([
        runner('busy', ['us-east'], { capacity: 2, used: 2 }),
        runner('free', ['eu-central'], { capacity: 3, used: 1 }),
        // Silent for longer than PRESENCE_TIMEOUT_SECONDS: gone, whatever its last beat said.
        runner('gone', ['asia-pacific'], { capacity: 3, used: 0 }, 60_000),
      ]),
      () => NOW,
    )
    expect(await presence.queued('us-east')).toEqual({ waitingForRunner: false, startingSoon: false })
    expect(await presence.queued('eu-central')).toEqual({ waitingForRunner: false, startingSoon: true })
    expect(await presence.queued('asia-pacific')).toEqual({ waitingForRunner: true, startingSoon: false })
    expect(await presence.of('eu-central')).toEqual({ runnerAvailable: true, pollers: 1, freeSlots: 2 })
  })

  it('assumes a runner serves the location, but not soon, when Temporal cannot say', async () => {
    const failing = { workflow: { list: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('Temporal unreachable')) }) }) } } as unknown as Client
    expect(await new RunnerPresence(failing, () => NOW).queued('us-east')).toEqual({ waitingForRunner: false, startingSoon: false })
  })
})
