import { MockActivityEnvironment } from '@temporalio/testing'
import { describe, expect, it } from 'vitest'
import type { PresenceBeat } from '@stampede/shared/temporal'
import { createPresenceActivities } from './presence.ts'

const BEAT: PresenceBeat = { runnerId: 'r', locations: ['us-east'], slots: { capacity: 1, used: 0 }, sandbox: 'off', startedAt: '2026-01-01T00:00:00.000Z' }

/** Resolves after the environment's n-th heartbeat (listening from now: call before running). */
function beats(env: MockActivityEnvironment, n: number): Promise<void> {
  let seen = 0
  return new Promise<void>((resolve) => env.on('heartbeat', () => ++seen >= n && resolve()))
}

describe('runnerPresence', () => {
  it('heartbeats what the runner serves until the runner stops, then ends at once', async () => {
    const presence = createPresenceActivities(() => BEAT, { beatMs: 10 })
    const env = new MockActivityEnvironment()
    const details: unknown[] = []
    env.on('heartbeat', (d: unknown) => details.push(d))
    const third = beats(env, 3)
    const running = env.run(presence.activities.runnerPresence)
    await third
    presence.stop()
    await expect(running).resolves.toBe('runner stopping')
    expect(details[0]).toEqual(BEAT)
  })

  it('fails when cancelled (the worker shuts down), so Temporal schedules it for the next life', async () => {
    const presence = createPresenceActivities(() => BEAT, { beatMs: 60_000 })
    const env = new MockActivityEnvironment()
    const first = beats(env, 1)
    const running = env.run(presence.activities.runnerPresence)
    await first
    env.cancel('WORKER_SHUTDOWN')
    await expect(running).rejects.toThrow('WORKER_SHUTDOWN')
  })
})
