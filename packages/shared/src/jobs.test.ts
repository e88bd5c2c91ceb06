import { describe, expect, it } from 'vitest'
import { OVERLAP_POLICIES, triggerOutcome } from './jobs.ts'

describe('triggerOutcome', () => {
  it('starts a firing whenever none runs, whatever the policy', () => {
    for (const policy of OVERLAP_POLICIES) expect(triggerOutcome(policy, 0)).toBe('started')
  })

  it('follows the overlap policy while a firing runs', () => {
    expect(triggerOutcome('skip', 1)).toBe('skipped')
    expect(triggerOutcome('buffer_one', 1)).toBe('queued')
    expect(triggerOutcome('cancel_other', 2)).toBe('cancelling_running')
  })
})
