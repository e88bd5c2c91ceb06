import { describe, expect, it } from 'vitest'
import { clearedSessionCookie, readCookie, sessionCookie } from './cookies.ts'
import { TokenRateLimiter } from './limits.ts'
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
  it('writes an HTTP-only SameSite=Strict cookie, Secure on https, and reads it back', () => {
    expect(sessionCookie('v a', { maxAgeSeconds: 60, secure: false })).toBe('stampede_session=v%20a; Path=/; HttpOnly; SameSite=Strict; Max-Age=60')
    expect(sessionCookie('v', { maxAgeSeconds: 60, secure: true })).toMatch(/; Secure$/)
    expect(clearedSessionCookie(false)).toContain('Max-Age=0')
    expect(readCookie('a=1; stampede_session=v%20a; b=2', 'stampede_session')).toBe('v a')
    expect(readCookie('a=1', 'stampede_session')).toBeUndefined()
    expect(readCookie(undefined, 'stampede_session')).toBeUndefined()
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
