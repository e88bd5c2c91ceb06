import { describe, expect, it } from 'vitest'
import { redactSecrets, redactUrl } from './redact.ts'

describe('redactUrl', () => {
  it('masks the password and keeps everything else', () => {
    expect(redactUrl('postgresql://app:s3cr%40t@db.internal:5432/stampede?sslmode=require')).toBe(
      'postgresql://app:***@db.internal:5432/stampede?sslmode=require',
    )
  })

  it('masks a password given as a query parameter', () => {
    expect(redactUrl('postgresql://db/stampede?user=app&password=hunter2')).toBe(
      'postgresql://db/stampede?user=app&password=***',
    )
  })

  it('leaves a URL without a password alone', () => {
    expect(redactUrl('postgresql://postgres@127.0.0.1:5432/test')).toBe('postgresql://postgres@127.0.0.1:5432/test')
  })

  it('masks userinfo even in a string that is not a valid URL', () => {
    expect(redactUrl('postgresql://app:hunter2@db:notaport/x')).not.toContain('hunter2')
  })
})

describe('redactSecrets', () => {
  it('masks the URL and the bare (also decoded) password inside a message', () => {
    const url = 'postgresql://app:p%40ss-word@db:5432/stampede'
    const message = `connect to ${url} failed; password "p@ss-word" rejected (p%40ss-word)`
    const out = redactSecrets(message, url)
    expect(out).not.toContain('p@ss-word')
    expect(out).not.toContain('p%40ss-word')
    expect(out).toContain('postgresql://app:***@db:5432/stampede')
  })
})
