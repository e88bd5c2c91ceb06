import { describe, expect, it } from 'vitest'
import { redactJson, secretRedactor } from './redact.ts'

describe('secretRedactor', () => {
  it('masks every occurrence of every secret, longest first', () => {
    const redact = secretRedactor(['s3cr3t-token', 's3cr3t'])
    expect(redact('token=s3cr3t-token and s3cr3t and s3cr3t-token')).toBe('token=[secret] and [secret] and [secret]')
    expect(redact('nothing here')).toBe('nothing here')
  })

  it('masks URL-encoded, base64 and JSON-escaped forms of values of 4+ characters', () => {
    const v = 'p@ss w/rd"?'
    const redact = secretRedactor([v])
    expect(redact(`q=${encodeURIComponent(v)}`)).toBe('q=[secret]')
    expect(redact(`b64 ${Buffer.from(v).toString('base64')}`)).toBe('b64 [secret]')
    expect(redact(`json ${JSON.stringify({ v })}`)).toBe('json {"v":"[secret]"}')
  })

  it('ignores empty values and returns text unchanged without secrets', () => {
    expect(secretRedactor(['']).call(null, 'abc')).toBe('abc')
    expect(secretRedactor([])('abc')).toBe('abc')
  })

  it('redacts strings and keys inside JSON values', () => {
    const redact = secretRedactor(['hunter22'])
    expect(redactJson({ checks: { 'token hunter22 ok': { passes: 1, note: 'x hunter22' } }, n: 1 }, redact)).toEqual({
      checks: { 'token [secret] ok': { passes: 1, note: 'x [secret]' } },
      n: 1,
    })
  })
})
