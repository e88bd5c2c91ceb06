// Script validation runs k6 (`k6 inspect`), which costs a process, memory and CPU per call, and
// any signed-in caller (a viewer too) can ask for it. So it is a bounded service:
// - at most `concurrency` k6 processes at once; later calls wait in a queue, in order, and are
//   refused once they have waited `maxWaitMs` (a queue, not a pile-up);
// - each caller (user or API token) may start at most `perCallerPerMinute` validations a minute.
// The queue is written here rather than taken from a library: it must refuse with a message naming
// the limits. The per-caller rate uses the API's token buckets (auth/limits.ts).
import { TRPCError } from '@trpc/server'
import { RateBuckets } from '../auth/limits.ts'

export interface ValidationGateOptions {
  concurrency: number
  maxWaitMs: number
  perCallerPerMinute: number
}

export class ValidationGate {
  private running = 0
  private readonly waiting: { resolve: (release: () => void) => void; timer: NodeJS.Timeout }[] = []
  private readonly rates: RateBuckets

  constructor(private readonly opts: ValidationGateOptions) {
    this.rates = new RateBuckets(opts.perCallerPerMinute)
  }

  /** Counts one validation against the caller's rate; throws TOO_MANY_REQUESTS past it. */
  charge(caller: string, now = Date.now()): void {
    const waitS = this.rates.take(caller, now)
    if (waitS !== undefined) {
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `script validation is limited to ${this.opts.perCallerPerMinute} per minute per caller (VALIDATION_RATE_LIMIT); retry in ${waitS} s` })
    }
  }

  /** Runs `fn` once a k6 slot is free; throws TOO_MANY_REQUESTS when the wait is too long. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire()
    try {
      return await fn()
    } finally {
      release()
    }
  }

  get stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length }
  }

  private acquire(): Promise<() => void> {
    if (this.running < this.opts.concurrency) {
      this.running++
      return Promise.resolve(this.releaser())
    }
    return new Promise((resolve, reject) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          const at = this.waiting.indexOf(entry)
          if (at >= 0) this.waiting.splice(at, 1)
          reject(
            new TRPCError({
              code: 'TOO_MANY_REQUESTS',
              message: `k6 is busy validating other scripts (${this.opts.concurrency} at a time, VALIDATION_CONCURRENCY) and this one waited ${Math.round(this.opts.maxWaitMs / 1000)} s; retry in a few seconds`,
            }),
          )
        }, this.opts.maxWaitMs),
      }
      this.waiting.push(entry)
    })
  }

  private releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      if (next) {
        clearTimeout(next.timer)
        next.resolve(this.releaser())
      } else {
        this.running--
      }
    }
  }
}
