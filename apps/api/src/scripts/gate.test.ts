// The validation gate: a few k6 slots shared in order, a queue that refuses long waits, and a
// per-caller rate.
import { TRPCError } from '@trpc/server'
import { describe, expect, it } from 'vitest'
import { ValidationGate } from './gate.ts'

const deferred = () => {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('ValidationGate', () => {
  it('runs at most `concurrency` validations at once and the rest in order', async () => {
    const gate = new ValidationGate({ concurrency: 2, maxWaitMs: 5000, perCallerPerMinute: 100 })
    const started: number[] = []
    const holds = [deferred(), deferred(), deferred(), deferred()]
    const runs = holds.map((h, i) => gate.run(async () => {
      started.push(i)
      await h.promise
      return i
    }))
    await new Promise((r) => setImmediate(r))
    expect(started).toEqual([0, 1])
    expect(gate.stats).toEqual({ running: 2, waiting: 2 })
    holds[1]!.resolve()
    await runs[1]
    await new Promise((r) => setImmediate(r))
    expect(started).toEqual([0, 1, 2])
    for (const h of holds) h.resolve()
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3])
    expect(gate.stats).toEqual({ running: 0, waiting: 0 })
  })

  it('refuses a validation that waited too long, naming the limit, and frees its place', async () => {
    const gate = new ValidationGate({ concurrency: 1, maxWaitMs: 30, perCallerPerMinute: 100 })
    const hold = deferred()
    const first = gate.run(() => hold.promise)
    const err = await gate.run(async () => 'never').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TRPCError)
    expect((err as TRPCError).code).toBe('TOO_MANY_REQUESTS')
    expect((err as TRPCError).message).toMatch(/1 at a time, VALIDATION_CONCURRENCY/)
    expect(gate.stats).toEqual({ running: 1, waiting: 0 })
    hold.resolve()
    await first
    expect(await gate.run(async () => 'next')).toBe('next')
  })

  it('limits each caller to its rate, not others', () => {
    const gate = new ValidationGate({ concurrency: 1, maxWaitMs: 1000, perCallerPerMinute: 3 })
    const now = 1_000_000
    for (let i = 0; i < 3; i++) gate.charge('token:a', now)
    expect(() => gate.charge('token:a', now)).toThrow(/limited to 3 per minute per caller \(VALIDATION_RATE_LIMIT\); retry in 20 s/)
    expect(() => gate.charge('token:b', now)).not.toThrow()
    // A minute later the bucket is full again.
    expect(() => gate.charge('token:a', now + 60_000)).not.toThrow()
  })
})
