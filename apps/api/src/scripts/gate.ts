// Script validation runs k6 (`k6 inspect`), which costs a process, memory and CPU per call, and
// any signed-in caller (a viewer too) can ask for it. So it is a bounded service:
// - at most `concurrency` k6 processes at once; later calls wait in a queue, in order, and are
//   refused once they have waited `maxWaitMs` (a queue, not a pile-up);
// - each caller (user or API token) may start at most `perCallerPerMinute` validations a minute.
// Written here rather than taken from a library: the queue must refuse with a message naming the
// limits, and the per-caller bucket is the same small token bucket as the API token limit.
import { TRPCError } from '@trpc/server'

export interface ValidationGateOptions {
  concurrency: number
  maxWaitMs: number
  perCallerPerMinute: number
}

export class ValidationGate {
  private running = 0
  private readonly waiting: { resolve: (release: () => void) => void; timer: NodeJS.Timeout }[] = []
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(private readonly opts: ValidationGateOptions) {}

  /** Counts one validation against the caller's rate; throws TOO_MANY_REQUESTS past it. */
  charge(caller: string, now = Date.now()): void {
    const { perCallerPerMinute } = this.opts
    const rate = perCallerPerMinute / 60_000
    const bucket = this.buckets.get(caller) ?? { tokens: perCallerPerMinute, at: now }
    bucket.tokens = Math.min(perCallerPerMinute, bucket.tokens + (now - bucket.at) * rate)
    bucket.at = now
    this.buckets.set(caller, bucket)
    if (bucket.tokens < 1) {
      const waitS = Math.ceil((1 - bucket.tokens) / rate / 1000)
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `script validation is limited to ${perCallerPerMinute} per minute per caller (VALIDATION_RATE_LIMIT); retry in ${waitS} s` })
    }
    bucket.tokens -= 1
    if (this.buckets.size > 10_000) {
      for (const [key, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(key)
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
