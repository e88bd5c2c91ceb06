import { describe, expect, it } from 'vitest'
import { allowlistErrors, allowlistFromText, allowlistToText, parseQuota, quotaToText } from './settings.ts'

describe('allowlistFromText', () => {
  it('takes one entry per non-empty line and remembers its line number', () => {
    expect(allowlistFromText('10.1.0.0/16\n\n  api.internal  \r\n10.2.3.4\n')).toEqual({
      entries: ['10.1.0.0/16', 'api.internal', '10.2.3.4'],
      lines: [1, 3, 4],
    })
  })

  it('gives an empty list for an empty or blank text', () => {
    expect(allowlistFromText('')).toEqual({ entries: [], lines: [] })
    expect(allowlistFromText(' \n \n')).toEqual({ entries: [], lines: [] })
  })

  it('round-trips through the text form', () => {
    expect(allowlistFromText(allowlistToText(['10.0.0.0/8', 'db.internal'])).entries).toEqual(['10.0.0.0/8', 'db.internal'])
  })
})

describe('allowlistErrors', () => {
  const list = allowlistFromText('10.0.0.1/8\n\n*.internal\nok.internal')

  it('maps the API message to the lines, keeping messages that contain "; "', () => {
    const message =
      'allowlist.0: 10.0.0.1/8 has bits set after its /8 prefix; did you mean 10.0.0.0/8?; allowlist.1: *.internal: only exact hostnames can be allowlisted, not patterns'
    expect(allowlistErrors(message, [], list)).toEqual([
      { line: 1, entry: '10.0.0.1/8', message: '10.0.0.1/8 has bits set after its /8 prefix; did you mean 10.0.0.0/8?' },
      { line: 3, entry: '*.internal', message: '*.internal: only exact hostnames can be allowlisted, not patterns' },
    ])
  })

  it('prefers the input issues the API listed', () => {
    const issues = [
      { path: 'allowlist.2', message: 'Too big: expected string to have <=253 characters' },
      { path: 'name', message: 'is required' },
    ]
    expect(allowlistErrors('anything', issues, list)).toEqual([
      { line: 4, entry: 'ok.internal', message: 'Too big: expected string to have <=253 characters' },
    ])
  })

  it('finds nothing in an unrelated error', () => {
    expect(allowlistErrors('your role in project "x" (viewer) does not allow you to …', [], list)).toEqual([])
  })
})

describe('parseQuota', () => {
  it('reads an empty optional field as the platform default', () => {
    expect(parseQuota('  ', true)).toEqual({ ok: true, value: null })
    expect(quotaToText(null)).toBe('')
  })

  it('requires a value when there is no default', () => {
    expect(parseQuota('', false)).toEqual({ ok: false, message: 'is required' })
  })

  it('accepts whole numbers of at least 1', () => {
    expect(parseQuota(' 50 ', false)).toEqual({ ok: true, value: 50 })
    expect(parseQuota('0', true)).toEqual({ ok: false, message: 'must be at least 1' })
    expect(parseQuota('2.5', true)).toEqual({ ok: false, message: 'must be a whole number' })
    expect(parseQuota('-3', true)).toEqual({ ok: false, message: 'must be a whole number' })
    expect(parseQuota('99999999999999999999', true)).toEqual({ ok: false, message: 'is too large' })
  })
})
