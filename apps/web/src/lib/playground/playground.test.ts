import { describe, expect, it } from 'vitest'
import { parseDraft, runInput } from './playground.svelte.ts'

describe('runInput', () => {
  const test = { id: 't1', name: 'Checkout' }

  it('runs the saved test while the editor holds what was saved, so the run lands in its history', () => {
    expect(runInput('p1', { script: 'x', test, savedScript: 'x' }, 'us-east')).toEqual({ testId: 't1', location: 'us-east' })
  })

  it('runs the editor as an unsaved script when it differs from the test, or there is no test', () => {
    expect(runInput('p1', { script: 'y', test, savedScript: 'x' }, 'us-east')).toEqual({ projectId: 'p1', script: 'y', location: 'us-east' })
    expect(runInput('p1', { script: 'y', test: null, savedScript: null }, 'eu-central')).toEqual({ projectId: 'p1', script: 'y', location: 'eu-central' })
  })
})

describe('parseDraft', () => {
  it('restores a stored draft', () => {
    const draft = { script: 's', name: 'n', test: { id: 't', name: 'n' }, savedScript: 's' }
    expect(parseDraft(JSON.stringify(draft))).toEqual(draft)
  })

  it('ignores storage that holds no draft or a damaged one', () => {
    expect(parseDraft(null)).toBeNull()
    expect(parseDraft('not json')).toBeNull()
    expect(parseDraft('{"script": 1}')).toBeNull()
    expect(parseDraft('{"script": "s", "name": "n", "test": {"id": 3}}')).toEqual({ script: 's', name: 'n', test: null, savedScript: null })
  })
})
