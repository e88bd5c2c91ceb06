// Abuse limits: sign-in throttling (per account and per address, counted in the database so
// every API instance agrees) and a per-token request rate (in memory, per API instance).
import { TRPCError } from '@trpc/server'
import type { Db } from '@stampede/db'

export const LOGIN_WINDOW_MS = 15 * 60 * 1000
export const LOGIN_FAILURES_PER_ACCOUNT = 5
export const LOGIN_FAILURES_PER_ADDRESS = 20

const minutesUntil = (ms: number) => Math.max(1, Math.ceil(ms / 60_000))

/** Throws TOO_MANY_REQUESTS while the account or the address has too many recent failures. */
export async function assertLoginAllowed(db: Db, email: string, address: string, now = new Date()): Promise<void> {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS)
  const [byAccount, byAddress] = await Promise.all([
    db.loginAttempt.findMany({ where: { email, success: false, at: { gt: since } }, select: { at: true }, orderBy: { at: 'asc' } }),
    db.loginAttempt.findMany({ where: { address, success: false, at: { gt: since } }, select: { at: true }, orderBy: { at: 'asc' } }),
  ])
  const blocked = (failures: { at: Date }[], limit: number) =>
    failures.length >= limit ? failures[failures.length - limit]!.at.getTime() + LOGIN_WINDOW_MS - now.getTime() : 0
  const account = blocked(byAccount, LOGIN_FAILURES_PER_ACCOUNT)
  const addr = blocked(byAddress, LOGIN_FAILURES_PER_ADDRESS)
  if (account > 0 || addr > 0) {
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `too many failed sign-ins ${account > 0 ? 'for this account' : 'from your address'}; try again in ${minutesUntil(Math.max(account, addr))} min`,
    })
  }
}

export async function recordLogin(db: Db, email: string, address: string, success: boolean): Promise<void> {
  await db.loginAttempt.create({ data: { email, address, success } })
  // A successful sign-in clears the account's failures; old rows are pruned as we go.
  if (success) await db.loginAttempt.deleteMany({ where: { email, success: false } })
  await db.loginAttempt.deleteMany({ where: { at: { lt: new Date(Date.now() - 2 * LOGIN_WINDOW_MS) } } })
}

/** A token bucket per API token: `perMinute` requests, refilled continuously. */
export class TokenRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(private readonly perMinute: number) {}

  take(tokenId: string, name: string, now = Date.now()): void {
    const rate = this.perMinute / 60_000
    const bucket = this.buckets.get(tokenId) ?? { tokens: this.perMinute, at: now }
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * rate)
    bucket.at = now
    if (bucket.tokens < 1) {
      this.buckets.set(tokenId, bucket)
      const waitS = Math.ceil((1 - bucket.tokens) / rate / 1000)
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `API token "${name}" exceeded ${this.perMinute} requests per minute; retry in ${waitS} s` })
    }
    bucket.tokens -= 1
    this.buckets.set(tokenId, bucket)
    if (this.buckets.size > 10_000) this.prune(now)
  }

  private prune(now: number) {
    for (const [id, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(id)
  }
}
