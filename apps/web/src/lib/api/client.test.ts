import { describe, expect, it } from 'vitest'
import { apiBaseUrl, procedureOf } from './client.ts'

describe('procedureOf', () => {
  it('names the procedure of a tRPC request URL', () => {
    expect(procedureOf('http://127.0.0.1:4000/trpc/auth.login')).toBe('auth.login')
    expect(procedureOf('http://127.0.0.1:4000/trpc/runs.list?input=%7B%22limit%22%3A20%7D')).toBe('runs.list')
    expect(procedureOf('https://api.example/base/trpc/auth.me')).toBe('auth.me')
  })
})

describe('apiBaseUrl', () => {
  it('addresses a loopback API by the name the page was opened with, so the session cookie is same-site', () => {
    // PUBLIC_STAMPEDE_API_URL is unset in unit tests: the default http://127.0.0.1:4000 applies.
    expect(apiBaseUrl('127.0.0.1')).toBe('http://127.0.0.1:4000')
    expect(apiBaseUrl('localhost')).toBe('http://localhost:4000')
    expect(apiBaseUrl('stampede.example.com')).toBe('http://127.0.0.1:4000')
    expect(apiBaseUrl(undefined)).toBe('http://127.0.0.1:4000')
  })
})
