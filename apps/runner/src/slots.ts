// The runner's k6 slots (K6_MAX_CONCURRENCY), shared by every location queue it serves, as a
// Temporal slot supplier: a worker asks for a slot BEFORE it polls, so a runner whose slots are all
// busy does not poll and a waiting run stays on Temporal's queue (`queued`, free for any runner with
// room) instead of waiting inside this process, where a crash would lose it.
//
// Why not a plain counter of permits: a permit is held for the whole long poll (up to a minute
// with nothing to do), so with more location queues than free slots some queues would not be
// polled at all for that long. Here every queue may keep one poll open while any slot is free;
// when two queues hand over tasks at the same moment for the last free slot, `admit` lets the
// first one run and the other activity hands its run straight back (RunnerBusy) before k6 starts,
// and the workflow puts it on the queue again.
//
// A k6 whose activity was lost (Temporal unreachable past the heartbeat timeout) keeps running
// after its activity ended: `hold` keeps its slot until k6 ends.
import type { ActivitySlotInfo, CustomSlotSupplier, SlotMarkUsedContext, SlotPermit, SlotReleaseContext, SlotReserveContext } from '@temporalio/worker'

interface Permit extends SlotPermit {
  queue: string
  used: boolean
}

export class K6Slots implements CustomSlotSupplier<ActivitySlotInfo> {
  readonly type = 'custom' as const
  /** Permits reserved for a poll and not used by a task yet, per queue. */
  private readonly polling = new Map<string, number>()
  private pollingTotal = 0
  /** Permits holding a task. */
  private tasks = 0
  /** Activities admitted to run k6. */
  private admitted = 0
  /** k6 processes running without their activity. */
  private held = 0
  private readonly waiting: { queue: string; grant: () => void }[] = []

  constructor(readonly capacity: number) {}

  /** k6 slots taken now: admitted runs and k6 processes that outlived their activity. */
  get used(): number {
    return this.admitted + this.held
  }

  private busy(): number {
    return Math.max(this.tasks, this.admitted) + this.held
  }

  private canPoll(queue: string): boolean {
    if (this.busy() >= this.capacity) return false
    return (this.polling.get(queue) ?? 0) === 0 || this.busy() + this.pollingTotal < this.capacity
  }

  private grant(queue: string): Permit {
    this.polling.set(queue, (this.polling.get(queue) ?? 0) + 1)
    this.pollingTotal++
    return { queue, used: false }
  }

  reserveSlot(ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    if (this.canPoll(ctx.taskQueue)) return Promise.resolve(this.grant(ctx.taskQueue))
    return new Promise<SlotPermit>((resolve, reject) => {
      const entry = {
        queue: ctx.taskQueue,
        grant: () => {
          abortSignal.removeEventListener('abort', onAbort)
          resolve(this.grant(ctx.taskQueue))
        },
      }
      const onAbort = () => {
        const i = this.waiting.indexOf(entry)
        if (i >= 0) this.waiting.splice(i, 1)
        // The SDK expects the signal's own reason back when it no longer needs the slot.
        reject(abortSignal.reason)
      }
      abortSignal.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(entry)
    })
  }

  tryReserveSlot(ctx: SlotReserveContext): SlotPermit | null {
    return this.canPoll(ctx.taskQueue) ? this.grant(ctx.taskQueue) : null
  }

  markSlotUsed(ctx: SlotMarkUsedContext<ActivitySlotInfo>): void {
    const permit = ctx.permit as Permit
    if (permit.used) return
    permit.used = true
    this.unpoll(permit.queue)
    this.tasks++
  }

  releaseSlot(ctx: SlotReleaseContext<ActivitySlotInfo>): void {
    const permit = ctx.permit as Permit
    if (permit.used) this.tasks = Math.max(0, this.tasks - 1)
    else this.unpoll(permit.queue)
    this.wake()
  }

  /**
   * Called by a k6 activity before it starts anything: a release function when a slot is free for
   * it, undefined when the slots are all taken (it then hands the run back).
   */
  admit(): (() => void) | undefined {
    if (this.admitted + this.held >= this.capacity) return undefined
    this.admitted++
    let released = false
    return () => {
      if (released) return
      released = true
      this.admitted--
      this.wake()
    }
  }

  /** Keeps one slot taken until `running` settles (a k6 that outlives its activity). */
  hold(running: Promise<unknown>): void {
    this.held++
    void running.finally(() => {
      this.held--
      this.wake()
    })
  }

  private unpoll(queue: string): void {
    const n = (this.polling.get(queue) ?? 0) - 1
    if (n > 0) this.polling.set(queue, n)
    else this.polling.delete(queue)
    this.pollingTotal = Math.max(0, this.pollingTotal - 1)
  }

  private wake(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const entry = this.waiting[i]!
      if (!this.canPoll(entry.queue)) {
        i++
        continue
      }
      this.waiting.splice(i, 1)
      entry.grant()
    }
  }
}
