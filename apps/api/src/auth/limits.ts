// Abuse limits: sign-in throttling (counted in the database so every API instance agrees) and a
// per-token request rate (in memory, per API instance).
//
// Sign-in failures are counted per account AND address, so a stranger who knows an email address
// only slows down their own guesses, never the owner signing in from elsewhere: after
// LOGIN_FREE_FAILURES failures in a row of one account from one address, each further attempt
// from there waits 1 s, 2 s, 4 s … up to LOGIN_DELAY_CAP_MS after the last failure. A success
// from that address clears its count. Across accounts, an address with
// LOGIN_FAILURES_PER_ADDRESS failures within LOGIN_ADDRESS_WINDOW_MS is refused for the rest of
// the window (password spraying).
import { TRPCError } from '@trpc/server'
import { LRUCache } from 'lru-cache'
import type { Db } from '@stampede/db'

export const LOGIN_FREE_FAILURES = 3
export const LOGIN_DELAY_BASE_MS = 1000
export const LOGIN_DELAY_CAP_MS = 15 * 60 * 1000
/** How long an account-and-address pair's failures are remembered. */
export const LOGIN_PAIR_MEMORY_MS = 24 * 3600 * 1000
export const LOGIN_ADDRESS_WINDOW_MS = 15 * 60 * 1000
export const LOGIN_FAILURES_PER_ADDRESS = 20

/** The wait after the `failures`-th failure in a row of one account from one address: 0, 0, 0 (free), then 1 s, 2 s, 4 s, … capped. */
export function loginDelayMs(failures: number): number {
  if (failures < LOGIN_FREE_FAILURES) return 0
  return Math.min(LOGIN_DELAY_CAP_MS, LOGIN_DELAY_BASE_MS * 2 ** (failures - LOGIN_FREE_FAILURES))
}

export interface LoginWait {
  ms: number
  /** `account`: this account's failures from this address; `address`: this address's failures over all accounts. */
  why: 'account' | 'address'
}

/**
 * How long a sign-in must still wait, or null when it may go ahead. `pairFailures`: the times of
 * this account's failures from this address since its last success (oldest first);
 * `addressFailures`: this address's failures over all accounts within the window (oldest first).
 */
export function loginWait(pairFailures: readonly Date[], addressFailures: readonly Date[], now: Date): LoginWait | null {
  const last = pairFailures.at(-1)
  const account = last ? last.getTime() + loginDelayMs(pairFailures.length) - now.getTime() : 0
  const nth = addressFailures.length >= LOGIN_FAILURES_PER_ADDRESS ? addressFailures[addressFailures.length - LOGIN_FAILURES_PER_ADDRESS] : undefined
  const address = nth ? nth.getTime() + LOGIN_ADDRESS_WINDOW_MS - now.getTime() : 0
  if (account <= 0 && address <= 0) return null
  return address > account ? { ms: address, why: 'address' } : { ms: account, why: 'account' }
}

export function loginWaitMessage(wait: LoginWait): string {
  const seconds = Math.max(1, Math.ceil(wait.ms / 1000))
  return `too many failed sign-ins ${wait.why === 'account' ? 'for this account from your address' : 'from your address'}; try again in ${seconds} s`
}

/**
 * Checks the throttle and, when the attempt may go ahead, records it as a failure before the
 * password is checked (finishLogin turns it into a success), so parallel guesses from one address
 * see each other. Throws TOO_MANY_REQUESTS with how long to wait. Returns the attempt's id.
 */
export async function beginLogin(db: Db, email: string, address: string, now = new Date()): Promise<string> {
  return db.$transaction(async (tx) => {
    // One attempt at a time per address (every API instance), between reading and recording. The
    // two-key form keeps these locks apart from the per-project ones of runs.start.
    await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext('stampede.login'), hashtext(${address}))::text`
    const [pair, byAddress] = await Promise.all([
      tx.loginAttempt.findMany({ where: { email, address, success: false, at: { gt: new Date(now.getTime() - LOGIN_PAIR_MEMORY_MS) } }, select: { at: true }, orderBy: { at: 'asc' } }),
      tx.loginAttempt.findMany({ where: { address, success: false, at: { gt: new Date(now.getTime() - LOGIN_ADDRESS_WINDOW_MS) } }, select: { at: true }, orderBy: { at: 'asc' } }),
    ])
    const wait = loginWait(
      pair.map((r) => r.at),
      byAddress.map((r) => r.at),
      now,
    )
    if (wait) throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: loginWaitMessage(wait) })
    const attempt = await tx.loginAttempt.create({ data: { email, address, success: false, at: now }, select: { id: true } })
    return attempt.id
  })
}

/**
 * Ends an attempt begun with beginLogin. A failure counts from now, when it is answered (the
 * password check takes a while); a success clears this account's failures from this address only.
 */
export async function finishLogin(db: Db, attemptId: string, email: string, address: string, success: boolean, now = new Date()): Promise<void> {
  if (success) {
    await db.loginAttempt.update({ where: { id: attemptId }, data: { success: true, at: now } })
    await db.loginAttempt.deleteMany({ where: { email, address, success: false } })
  } else {
    await db.loginAttempt.update({ where: { id: attemptId }, data: { at: now } })
  }
  // Old rows are pruned as we go.
  await db.loginAttempt.deleteMany({ where: { at: { lt: new Date(Date.now() - Math.max(LOGIN_PAIR_MEMORY_MS, LOGIN_ADDRESS_WINDOW_MS)) } } })
}

/**
 * A token bucket per key: `perMinute` takes, refilled continuously. In memory, per API instance.
 * Not @fastify/rate-limit: that counts HTTP requests by route before tRPC has resolved the caller,
 * while these buckets are keyed on who calls inside a procedure (an API token, a caller of script
 * validation), count each procedure of a batch, and refuse with a tRPC error that names the limit.
 *
 * The buckets live in an LRU cache (lru-cache): a bucket left alone for a minute is full again, so
 * it is dropped after a minute unused (a missing bucket is a full one), and at most
 * MAX_TRACKED_KEYS are kept, the least recently used going first.
 */
export class RateBuckets {
  static readonly MAX_TRACKED_KEYS = 10_000
  private readonly buckets = new LRUCache<string, { tokens: number; at: number }>({ max: RateBuckets.MAX_TRACKED_KEYS, ttl: 60_000 })

  constructor(readonly perMinute: number) {}

  /** Takes one from `key`'s bucket; when it is empty, takes nothing and returns the seconds to wait. */
  take(key: string, now = Date.now()): number | undefined {
    const rate = this.perMinute / 60_000
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now }
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * rate)
    bucket.at = now
    this.buckets.set(key, bucket)
    if (bucket.tokens < 1) return Math.ceil((1 - bucket.tokens) / rate / 1000)
    bucket.tokens -= 1
    return undefined
  }

  /** How many keys have a bucket now. */
  get size(): number {
    return this.buckets.size
  }
}

/** `perMinute` requests per API token. */
export class TokenRateLimiter {
  private readonly buckets: RateBuckets

  constructor(perMinute: number) {
    this.buckets = new RateBuckets(perMinute)
  }

  take(tokenId: string, name: string, now = Date.now()): void {
    const waitS = this.buckets.take(tokenId, now)
    if (waitS !== undefined) {
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `API token "${name}" exceeded ${this.buckets.perMinute} requests per minute; retry in ${waitS} s` })
    }
  }
}
