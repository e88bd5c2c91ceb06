import { describe, expect, it } from 'vitest'
import { devConcurrency } from './concurrency.ts'

describe('devConcurrency', () => {
  it('runs one k6 per core, at least two, and says so', () => {
    expect(devConcurrency(undefined, 8)).toEqual({ value: '8', reason: 'k6 concurrency: 8 (one k6 per core, 8 here; set K6_MAX_CONCURRENCY to change it)' })
    expect(devConcurrency(undefined, 1).value).toBe('2')
    expect(devConcurrency('', 4).value).toBe('4')
  })

  it('keeps K6_MAX_CONCURRENCY when it is set', () => {
    expect(devConcurrency('5', 2)).toEqual({ value: '5', reason: 'k6 concurrency: 5 (K6_MAX_CONCURRENCY)' })
  })
})
