import { describe, expect, it } from 'vitest'
import { countInFlight } from './in-flight.ts'

describe('countInFlight', () => {
  it('counts running and queued runs per location', () => {
    const counts = countInFlight([
      { items: [{ location: 'us-east', status: 'running' }, { location: 'eu-central', status: 'running' }, { location: 'us-east', status: 'running' }], nextCursor: null },
      { items: [{ location: 'us-east', status: 'queued' }], nextCursor: null },
    ])
    expect(Object.fromEntries(counts)).toEqual({
      'us-east': { running: 2, queued: 1, more: false },
      'eu-central': { running: 1, queued: 0, more: false },
    })
  })

  it('ignores finished runs and flags a full page as a lower bound', () => {
    const counts = countInFlight([{ items: [{ location: 'us-east', status: 'passed' }, { location: 'us-east', status: 'queued' }], nextCursor: 'x' }])
    expect(counts.get('us-east')).toEqual({ running: 0, queued: 1, more: true })
  })
})
