import { describe, expect, it } from 'vitest'
import { preferredLocation } from './locations.svelte.ts'

describe('preferredLocation', () => {
  const list = [
    { id: 'us-east', runnerAvailable: false },
    { id: 'eu-central', runnerAvailable: true },
  ]

  it('keeps the chosen location while it is configured, runner or not', () => {
    expect(preferredLocation(list, 'us-east')).toBe('us-east')
  })

  it('otherwise prefers a location with a runner, then the first', () => {
    expect(preferredLocation(list, 'mars-north')).toBe('eu-central')
    expect(preferredLocation(list, null)).toBe('eu-central')
    expect(preferredLocation([{ id: 'a', runnerAvailable: false }], undefined)).toBe('a')
    expect(preferredLocation([], 'a')).toBe('')
  })
})
