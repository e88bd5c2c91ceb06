import { describe, expect, it } from 'vitest'
import { formatDetails, formatTarget } from './format.ts'

describe('formatDetails', () => {
  it('lists an object as key: value pairs, nested values as JSON', () => {
    expect(formatDetails({ email: 'ada@example.com', role: 'viewer' })).toBe('email: ada@example.com, role: viewer')
    expect(formatDetails({ allowlist: ['10.0.0.0/8'], maxVus: null })).toBe('allowlist: ["10.0.0.0/8"], maxVus: null')
  })

  it('shows nothing for an event without details', () => {
    expect(formatDetails(null)).toBe('')
    expect(formatDetails(undefined)).toBe('')
  })

  it('prints other JSON values as they are', () => {
    expect(formatDetails('x')).toBe('x')
    expect(formatDetails([1, 2])).toBe('[1,2]')
  })
})

describe('formatTarget', () => {
  it('shortens ids and keeps targets without one', () => {
    expect(formatTarget('run', '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed')).toBe('run 1b9d6bcd')
    expect(formatTarget('invitation', null)).toBe('invitation')
    expect(formatTarget(null, null)).toBe('')
  })
})
