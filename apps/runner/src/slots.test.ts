import { describe, expect, it } from 'vitest'
import type { ActivitySlotInfo, SlotPermit } from '@temporalio/worker'
import { K6Slots } from './slots.ts'

const never = new AbortController().signal
const on = (taskQueue: string) => ({ slotType: 'activity' as const, taskQueue, workerIdentity: 'w', workerBuildId: '', workerDeploymentVersion: undefined, isSticky: false }) as never
const info: ActivitySlotInfo = { type: 'activity', activityType: 'executeK6' }
const use = (slots: K6Slots, permit: SlotPermit) => slots.markSlotUsed({ slotInfo: info, permit })
const release = (slots: K6Slots, permit: SlotPermit) => slots.releaseSlot({ slotInfo: info, permit })

describe('K6Slots', () => {
  it('lets every location queue keep one poll open while a slot is free, and none once all are taken', async () => {
    const slots = new K6Slots(1)
    const a = await slots.reserveSlot(on('k6-a'), never)
    // One free slot, three queues: each may poll (a second poll of the same queue may not).
    const b = slots.tryReserveSlot(on('k6-b'))!
    const c = slots.tryReserveSlot(on('k6-c'))!
    expect(b).not.toBeNull()
    expect(c).not.toBeNull()
    expect(slots.tryReserveSlot(on('k6-a'))).toBeNull()
    // A task arrives on a: the slot is taken, so no queue polls again once its poll ends.
    use(slots, a)
    release(slots, b)
    release(slots, c)
    expect(slots.tryReserveSlot(on('k6-b'))).toBeNull()
    const waiting = slots.reserveSlot(on('k6-b'), never)
    release(slots, a)
    await waiting
  })

  it('admits at most its capacity of runs: a second task for the last slot is handed back', async () => {
    const slots = new K6Slots(1)
    const a = await slots.reserveSlot(on('k6-a'), never)
    const b = await slots.reserveSlot(on('k6-b'), never)
    use(slots, a)
    use(slots, b)
    const first = slots.admit()
    expect(first).toBeDefined()
    expect(slots.admit()).toBeUndefined()
    expect(slots.used).toBe(1)
    first!()
    first!() // releasing twice frees one slot only
    expect(slots.used).toBe(0)
  })

  it('rejects an aborted reservation with the signal\'s reason and does not take a slot', async () => {
    const slots = new K6Slots(1)
    const held = await slots.reserveSlot(on('k6-a'), never)
    use(slots, held)
    const controller = new AbortController()
    const waiting = slots.reserveSlot(on('k6-a'), controller.signal)
    const reason = new Error('no longer needed')
    controller.abort(reason)
    await expect(waiting).rejects.toBe(reason)
    release(slots, held)
    expect(slots.tryReserveSlot(on('k6-a'))).not.toBeNull()
  })

  it('keeps a held slot taken until the k6 that holds it ends', async () => {
    const slots = new K6Slots(1)
    const permit = await slots.reserveSlot(on('k6-a'), never)
    use(slots, permit)
    const admitted = slots.admit()!
    let end!: () => void
    const k6 = new Promise<void>((r) => (end = r))
    // The activity is lost: it ends (its permit and admission go back), but k6 still runs.
    slots.hold(k6)
    admitted()
    release(slots, permit)
    expect(slots.used).toBe(1)
    expect(slots.tryReserveSlot(on('k6-a'))).toBeNull()
    const next = slots.reserveSlot(on('k6-a'), never)
    end()
    await next
    expect(slots.used).toBe(0)
  })
})
