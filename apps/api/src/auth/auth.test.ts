import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRPCError } from '@trpc/server'
import { createDb, type Db } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import { resolveActor } from './actor.ts'
import { clearedSessionCookie, readCookie, sessionCookie } from './cookies.ts'
import { beginLogin, finishLogin, LOGIN_ADDRESS_WINDOW_MS, LOGIN_DELAY_CAP_MS, LOGIN_FAILURES_PER_ADDRESS, loginDelayMs, loginWait, loginWaitMessage, RateBuckets, TokenRateLimiter } from './limits.ts'
import { hashPassword, verifyPassword } from './passwords.ts'
import { csrfTokenFor, newApiToken, safeEqual, sha256 } from './secrets.ts'

describe('passwords', () => {
  it('hashes with scrypt and a fresh salt, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery staple')
    const b = await hashPassword('correct horse battery staple')
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true)
    expect(await verifyPassword('correct horse battery stapler', a)).toBe(false)
    expect(await verifyPassword('anything', 'md5$abc')).toBe(false)
  })
})

describe('secrets', () => {
  it('makes API tokens with a recognisable prefix and stores only their SHA-256', () => {
    const { token, prefix, hash } = newApiToken()
    expect(token).toMatch(/^stp_[A-Za-z0-9_-]{43}$/)
    expect(prefix).toBe(token.slice(0, 12))
    expect(hash).toBe(sha256(token))
    expect(hash).not.toContain(token.slice(4))
  })

  it('derives one CSRF token per session', () => {
    expect(csrfTokenFor('session-a')).toBe(csrfTokenFor('session-a'))
    expect(csrfTokenFor('session-a')).not.toBe(csrfTokenFor('session-b'))
    expect(safeEqual('abc', 'abc')).toBe(true)
    expect(safeEqual('abc', 'abd')).toBe(false)
    expect(safeEqual('abc', 'abcd')).toBe(false)
  })
})

describe('cookies', () => {
  it('writes an HTTP-only SameSite=Strict cookie for the whole site, Secure on https, and reads it back', () => {
    expect(sessionCookie('v a', { maxAgeSeconds: 60, secure: false })).toBe('stampede_session=v%20a; Max-Age=60; Path=/; HttpOnly; SameSite=Strict')
    expect(sessionCookie('v', { maxAgeSeconds: 60, secure: true })).toBe('stampede_session=v; Max-Age=60; Path=/; HttpOnly; Secure; SameSite=Strict')
    expect(clearedSessionCookie(false)).toBe('stampede_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict')
    expect(clearedSessionCookie(true)).toBe('stampede_session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict')
    expect(readCookie('a=1; stampede_session=v%20a; b=2', 'stampede_session')).toBe('v a')
    expect(readCookie('a=1', 'stampede_session')).toBeUndefined()
    expect(readCookie(undefined, 'stampede_session')).toBeUndefined()
    expect(readCookie('', 'stampede_session')).toBeUndefined()
  })

  it('round-trips a session token and values that need encoding', () => {
    const { token } = newApiToken()
    for (const value of [token, 'a;b=c', 'ü €', '%41']) {
      const header = sessionCookie(value, { maxAgeSeconds: 60, secure: false }).split(';')[0]
      expect(readCookie(header, 'stampede_session')).toBe(value)
    }
  })

  it('reads odd headers without throwing: the first of duplicate names, quotes kept, bad percent-encoding as sent', () => {
    expect(readCookie('stampede_session=first; stampede_session=second', 'stampede_session')).toBe('first')
    expect(readCookie('stampede_session="quoted"', 'stampede_session')).toBe('"quoted"')
    expect(readCookie('stampede_session=%E0%A4%A', 'stampede_session')).toBe('%E0%A4%A')
    expect(readCookie('stampede_session=%zz; other=%', 'stampede_session')).toBe('%zz')
    expect(readCookie(' stampede_session = spaced ;x=1', 'stampede_session')).toBe('spaced')
    expect(readCookie('x=1;stampede_session=a=b', 'stampede_session')).toBe('a=b')
    expect(readCookie('=v; stampede_session=ok', 'stampede_session')).toBe('ok')
    expect(readCookie('stampede_session=', 'stampede_session')).toBe('')
    for (const header of ['garbage', ';;;', 'stampede_session', '=', 'stampede_sessionx=1; xstampede_session=2']) {
      expect(readCookie(header, 'stampede_session')).toBeUndefined()
    }
    // Names are looked up as the cookie's own, never inherited from Object.prototype; a cookie
    // that is really named __proto__ is just a cookie.
    expect(readCookie('a=1', 'toString')).toBeUndefined()
    expect(readCookie('a=1', '__proto__')).toBeUndefined()
    expect(readCookie('__proto__=x', '__proto__')).toBe('x')
  })
})

describe('TokenRateLimiter', () => {
  it('allows the per-minute budget, refuses the next with a retry time, and refills over time', () => {
    const limiter = new TokenRateLimiter(60)
    const t0 = 1_000_000
    for (let i = 0; i < 60; i++) limiter.take('t1', 'ci', t0)
    expect(() => limiter.take('t1', 'ci', t0)).toThrow('API token "ci" exceeded 60 requests per minute; retry in 1 s')
    // Another token has its own budget.
    expect(() => limiter.take('t2', 'other', t0)).not.toThrow()
    // One request per second comes back.
    expect(() => limiter.take('t1', 'ci', t0 + 1000)).not.toThrow()
    expect(() => limiter.take('t1', 'ci', t0 + 1000)).toThrow()
  })
})

describe('RateBuckets', () => {
  it('forgets a key left alone for a minute, which then has its whole budget again', () => {
    const buckets = new RateBuckets(2)
    const t0 = 5_000_000
    expect(buckets.take('k', t0)).toBeUndefined()
    expect(buckets.take('k', t0)).toBeUndefined()
    expect(buckets.take('k', t0)).toBe(30)
    expect(buckets.take('k', t0 + 60_000)).toBeUndefined()
    expect(buckets.take('k', t0 + 60_000)).toBeUndefined()
    expect(buckets.take('k', t0 + 60_000)).toBe(30)
  })

  it('keeps at most MAX_TRACKED_KEYS buckets', () => {
    const buckets = new RateBuckets(10)
    for (let i = 0; i < RateBuckets.MAX_TRACKED_KEYS + 500; i++) buckets.take(`key-${i}`, 0)
    expect(buckets.size).toBe(RateBuckets.MAX_TRACKED_KEYS)
  })
})

describe('sign-in delays', () => {
  const t0 = new Date('2027-01-01T00:00:00Z')
  const plus = (ms: number) => new Date(t0.getTime() + ms)

  it('lets three failures of an account from an address through, then doubles the wait from 1 s up to 15 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(loginDelayMs)).toEqual([0, 0, 1000, 2000, 4000, 8000, 16_000])
    expect(loginDelayMs(0)).toBe(0)
    expect(loginDelayMs(12)).toBe(512_000)
    expect(loginDelayMs(13)).toBe(LOGIN_DELAY_CAP_MS)
    expect(loginDelayMs(10_000)).toBe(LOGIN_DELAY_CAP_MS)
    expect(LOGIN_DELAY_CAP_MS).toBe(15 * 60 * 1000)
  })

  it('counts the wait from the last failure of the pair', () => {
    const failures = (n: number) => Array.from({ length: n }, (_, i) => plus(i * 100))
    expect(loginWait(failures(2), failures(2), plus(150))).toBeNull()
    // The third failure at t0+200 ms: the fourth attempt waits until t0+1200 ms.
    expect(loginWait(failures(3), failures(3), plus(200))).toEqual({ ms: 1000, why: 'account' })
    expect(loginWait(failures(3), failures(3), plus(1100))).toEqual({ ms: 100, why: 'account' })
    expect(loginWait(failures(3), failures(3), plus(1200))).toBeNull()
    expect(loginWait(failures(5), failures(5), plus(400))).toEqual({ ms: 4000, why: 'account' })
    expect(loginWaitMessage({ ms: 3001, why: 'account' })).toBe('too many failed sign-ins for this account from your address; try again in 4 s')
    expect(loginWaitMessage({ ms: 10, why: 'address' })).toBe('too many failed sign-ins from your address; try again in 1 s')
  })

  it('refuses an address with 20 failures over any accounts for the rest of the window', () => {
    const spray = Array.from({ length: LOGIN_FAILURES_PER_ADDRESS }, (_, i) => plus(i * 1000))
    expect(loginWait([], spray.slice(1), plus(20_000))).toBeNull()
    expect(loginWait([], spray, plus(20_000))).toEqual({ ms: LOGIN_ADDRESS_WINDOW_MS - 20_000, why: 'address' })
    expect(loginWait([], spray, plus(LOGIN_ADDRESS_WINDOW_MS))).toBeNull()
  })
})

describe('sign-in throttling in the database', () => {
  let database: TestDatabase
  let db: Db
  beforeAll(async () => {
    database = await createTestDatabase()
    db = createDb(database.url, { max: 8 })
  })
  afterAll(async () => {
    await db?.$disconnect()
    await database?.drop()
  })

  const refusal = (p: Promise<unknown>) => p.then(() => null, (err: unknown) => (err instanceof TRPCError ? `${err.code}: ${err.message}` : String(err)))
  const fail = async (email: string, address: string, now: Date) => finishLogin(db, await beginLogin(db, email, address, now), email, address, false, now)

  it('delays a stranger\'s guesses, never the owner signing in from another address', async () => {
    const now = new Date()
    for (let i = 0; i < 3; i++) await fail('owner@example.test', '203.0.113.9', now)
    expect(await refusal(beginLogin(db, 'owner@example.test', '203.0.113.9', now))).toBe('TOO_MANY_REQUESTS: too many failed sign-ins for this account from your address; try again in 1 s')
    // Once the wait is over the next guess goes through, and the one after waits 2 s.
    await fail('owner@example.test', '203.0.113.9', new Date(now.getTime() + 1000))
    expect(await refusal(beginLogin(db, 'owner@example.test', '203.0.113.9', new Date(now.getTime() + 1000)))).toMatch(/try again in 2 s$/)

    // The owner, elsewhere: no wait, and a success clears only their own address's failures.
    const owner = await beginLogin(db, 'owner@example.test', '198.51.100.7', now)
    await finishLogin(db, owner, 'owner@example.test', '198.51.100.7', true, now)
    expect(await refusal(beginLogin(db, 'owner@example.test', '203.0.113.9', new Date(now.getTime() + 1000)))).toMatch(/try again in 2 s$/)
  })

  it('counts the wait from when a failure is answered, not from when its password check began', async () => {
    const began = new Date()
    const attempts = []
    for (let i = 0; i < 3; i++) attempts.push(await beginLogin(db, 'slow@example.test', '192.0.2.45', began))
    const answered = new Date(began.getTime() + 5000) // a slow password check
    for (const id of attempts) await finishLogin(db, id, 'slow@example.test', '192.0.2.45', false, answered)
    expect(await refusal(beginLogin(db, 'slow@example.test', '192.0.2.45', new Date(answered.getTime() + 100)))).toMatch(/try again in 1 s$/)
  })

  it('sees parallel guesses from one address: no more than the free three get through at once', async () => {
    const now = new Date()
    const results = await Promise.all(Array.from({ length: 10 }, () => refusal(beginLogin(db, 'victim@example.test', '192.0.2.44', now))))
    expect(results.filter((r) => r === null)).toHaveLength(3)
    expect(results.filter((r) => r?.startsWith('TOO_MANY_REQUESTS'))).toHaveLength(7)
  })

  it('refuses an address spraying passwords over many accounts, not the accounts elsewhere', async () => {
    const now = new Date()
    for (let i = 0; i < LOGIN_FAILURES_PER_ADDRESS; i++) await fail(`user${i}@example.test`, '192.0.2.99', now)
    expect(await refusal(beginLogin(db, 'someone-else@example.test', '192.0.2.99', now))).toMatch(/^TOO_MANY_REQUESTS: too many failed sign-ins from your address; try again in 900 s$/)
    expect(await refusal(beginLogin(db, 'user0@example.test', '198.51.100.8', now))).toBeNull()
  })

  it('treats a malformed session cookie as an unknown session and a missing one as no credentials', async () => {
    const actor = (cookie: string | undefined) => refusal(resolveActor(db, { cookie, address: '192.0.2.1' }))
    for (const cookie of ['stampede_session=%E0%A4%A', 'stampede_session="x"', 'stampede_session=nope; stampede_session=other']) {
      expect(await actor(cookie)).toBe('UNAUTHORIZED: your session has ended; sign in again')
    }
    for (const cookie of [undefined, '', 'garbage', 'stampede_session=', 'other=1']) expect(await actor(cookie)).toBeNull()
  })
})
