import { describe, expect, it } from 'vitest'
import { expiryFromDate, tokenState } from './tokens.ts'

describe('tokenState', () => {
  const now = new Date('2026-05-01T12:00:00Z')

  it('tells active, revoked and expired tokens apart', () => {
    expect(tokenState({ revokedAt: null, expiresAt: null }, now)).toBe('active')
    expect(tokenState({ revokedAt: null, expiresAt: '2026-05-02T00:00:00Z' }, now)).toBe('active')
    expect(tokenState({ revokedAt: null, expiresAt: '2026-05-01T11:59:59Z' }, now)).toBe('expired')
    expect(tokenState({ revokedAt: '2026-04-01T00:00:00Z', expiresAt: '2026-05-01T11:59:59Z' }, now)).toBe('revoked')
  })
})

describe('expiryFromDate', () => {
  it('is the last second of the chosen day, local time', () => {
    const iso = expiryFromDate('2027-01-31')!
    const at = new Date(iso)
    expect([at.getFullYear(), at.getMonth(), at.getDate(), at.getHours(), at.getMinutes(), at.getSeconds()]).toEqual([2027, 0, 31, 23, 59, 59])
    expect(iso).toMatch(/Z$/)
  })

  it('means no expiry for an empty or malformed field', () => {
    expect(expiryFromDate('')).toBeUndefined()
    expect(expiryFromDate('31/01/2027')).toBeUndefined()
  })
})
