import { describe, expect, it } from 'vitest'
import { loginPath, newPasswordProblem, safeReturnPath, tokenFromHash } from './sign-in.ts'

describe('safeReturnPath', () => {
  it('returns to a path inside the app, query included', () => {
    expect(safeReturnPath('/runs/1b9d6bcd')).toBe('/runs/1b9d6bcd')
    expect(safeReturnPath('/settings/members?x=1')).toBe('/settings/members?x=1')
  })

  it('refuses anything that could leave the app', () => {
    expect(safeReturnPath('https://evil.example/')).toBe('/')
    expect(safeReturnPath('//evil.example/path')).toBe('/')
    expect(safeReturnPath('/\\evil.example')).toBe('/')
    expect(safeReturnPath('javascript:alert(1)')).toBe('/')
    expect(safeReturnPath(null)).toBe('/')
  })

  it('does not return to the sign-in pages themselves', () => {
    expect(safeReturnPath('/login?next=/x')).toBe('/')
    expect(safeReturnPath('/invite')).toBe('/')
    expect(safeReturnPath('/loginhelp')).toBe('/loginhelp')
  })
})

describe('loginPath', () => {
  it('carries the page to come back to', () => {
    expect(loginPath('/runs/abc')).toBe('/login?next=%2Fruns%2Fabc')
    expect(loginPath('/')).toBe('/login')
  })
})

describe('tokenFromHash', () => {
  it('reads the token from a one-time link fragment', () => {
    expect(tokenFromHash('#token=abcDEF_123-xyz')).toBe('abcDEF_123-xyz')
    expect(tokenFromHash('token=abc')).toBe('abc')
  })

  it('is null without one', () => {
    expect(tokenFromHash('')).toBeNull()
    expect(tokenFromHash('#token=')).toBeNull()
    expect(tokenFromHash('#other=1')).toBeNull()
  })
})

describe('newPasswordProblem', () => {
  it('accepts a long enough password typed twice', () => {
    expect(newPasswordProblem('correct horse battery', 'correct horse battery')).toBeNull()
  })

  it('says what is wrong', () => {
    expect(newPasswordProblem('short', 'short')).toBe('The password must be at least 12 characters.')
    expect(newPasswordProblem('correct horse battery', 'correct horse')).toBe('The two passwords differ.')
  })
})
