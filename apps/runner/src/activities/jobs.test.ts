import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { derivedUuid, firingStatus, signWebhook, webhookEventFor, webhookRefusal } from './jobs.ts'

describe('derivedUuid', () => {
  it('gives the same valid UUID for the same firing position, and different ones otherwise', () => {
    const a = derivedUuid('job-1-2026-11-24T00:00:00Z:0')
    expect(derivedUuid('job-1-2026-11-24T00:00:00Z:0')).toBe(a)
    expect(derivedUuid('job-1-2026-11-24T00:00:00Z:1')).not.toBe(a)
    expect(z.uuid().safeParse(a).success).toBe(true)
  })
})

describe('firingStatus', () => {
  it('passes only when every run passed', () => {
    expect(firingStatus(['passed', 'passed'], false)).toBe('passed')
    expect(firingStatus(['passed', 'failed'], false)).toBe('failed')
    expect(firingStatus(['failed', 'timed_out'], false)).toBe('error')
    expect(firingStatus(['passed', 'cancelled'], false)).toBe('cancelled')
    expect(firingStatus(['passed'], true)).toBe('cancelled')
    expect(firingStatus([], false)).toBe('error')
  })
})

describe('webhookEventFor', () => {
  it('notifies failures, the first pass after a failure, or every firing, as asked', () => {
    expect(webhookEventFor(['failure'], 'failed', 'passed')).toBe('failure')
    expect(webhookEventFor(['failure'], 'passed', 'failed')).toBeNull()
    expect(webhookEventFor(['recovery'], 'passed', 'failed')).toBe('recovery')
    expect(webhookEventFor(['recovery'], 'passed', 'error')).toBe('recovery')
    expect(webhookEventFor(['recovery'], 'passed', 'passed')).toBeNull()
    expect(webhookEventFor(['recovery'], 'passed', null)).toBeNull()
    expect(webhookEventFor(['recovery'], 'failed', 'passed')).toBeNull()
    expect(webhookEventFor(['always'], 'passed', 'passed')).toBe('firing')
    expect(webhookEventFor(['always'], 'passed', 'failed')).toBe('recovery')
    expect(webhookEventFor(['always'], 'error', null)).toBe('failure')
  })
})

describe('signWebhook', () => {
  it('is an HMAC-SHA256 of "<timestamp>.<body>" with the job secret', () => {
    const expected = createHmac('sha256', 'whsec_x').update('1700000000.{"a":1}').digest('hex')
    expect(signWebhook('whsec_x', '1700000000', '{"a":1}')).toBe(`sha256=${expected}`)
  })
})

describe('webhookRefusal', () => {
  const lookup = (map: Record<string, string[]>) => async (host: string) => (map[host] ?? [host]).map((address) => ({ address }))

  it('refuses private, loopback and metadata addresses, also behind a name, unless allowed', async () => {
    const names = lookup({ 'hooks.internal': ['10.0.0.7'], 'hooks.example': ['93.184.216.34'] })
    expect(await webhookRefusal('http://hooks.example/x', { allowLoopback: false, allowlist: [], lookup: names })).toBeNull()
    expect(await webhookRefusal('http://hooks.internal/x', { allowLoopback: false, allowlist: [], lookup: names })).toBe(
      "the webhook's address 10.0.0.7 (hooks.internal) is in a blocked range (10.0.0.0/8); a project admin can allowlist it",
    )
    expect(await webhookRefusal('http://169.254.169.254/latest', { allowLoopback: true, allowlist: [], lookup: names })).toMatch(/in a blocked range \(169\.254\.0\.0\/16\)/)
    expect(await webhookRefusal('http://[::1]:8080/x', { allowLoopback: false, allowlist: [], lookup: names })).toMatch(/::1 is in a blocked range/)
    expect(await webhookRefusal('http://127.0.0.1:8080/x', { allowLoopback: true, allowlist: [], lookup: names })).toBeNull()
    expect(await webhookRefusal('http://hooks.internal/x', { allowLoopback: false, allowlist: ['10.0.0.7'], lookup: names })).toBeNull()
  })
})
