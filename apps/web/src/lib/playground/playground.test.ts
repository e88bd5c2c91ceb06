import { describe, expect, it } from 'vitest'
import { hasUnsavedChanges, parseDraft, RAW_SAMPLES_HELP, runInput } from './playground.svelte.ts'

describe('runInput', () => {
  const test = { id: 't1', name: 'Checkout', rawSamples: false }

  it('runs the saved test while the editor holds what was saved, so the run lands in its history', () => {
    expect(runInput('p1', { script: 'x', test, savedScript: 'x', runRawSamples: false }, 'us-east')).toEqual({ testId: 't1', location: 'us-east', rawSamples: false })
  })

  it('runs the editor as an unsaved script when it differs from the test, or there is no test', () => {
    expect(runInput('p1', { script: 'y', test, savedScript: 'x', runRawSamples: false }, 'us-east')).toEqual({ projectId: 'p1', script: 'y', location: 'us-east', rawSamples: false })
    expect(runInput('p1', { script: 'y', test: null, savedScript: null, runRawSamples: false }, 'eu-central')).toEqual({ projectId: 'p1', script: 'y', location: 'eu-central', rawSamples: false })
  })

  it('asks for raw samples as the run\'s checkbox says, whatever the saved test\'s setting', () => {
    expect(runInput('p1', { script: 'x', test, savedScript: 'x', runRawSamples: true }, 'us-east')).toEqual({ testId: 't1', location: 'us-east', rawSamples: true })
    expect(runInput('p1', { script: 'x', test: { ...test, rawSamples: true }, savedScript: 'x', runRawSamples: false }, 'us-east')).toEqual({ testId: 't1', location: 'us-east', rawSamples: false })
    expect(runInput('p1', { script: 'y', test: null, savedScript: null, runRawSamples: true }, 'us-east')).toEqual({ projectId: 'p1', script: 'y', location: 'us-east', rawSamples: true })
  })
})

describe('hasUnsavedChanges', () => {
  const test = { id: 't1', name: 'Checkout', rawSamples: false }
  const saved = { script: 'x', name: 'Checkout', test, savedScript: 'x', rawSamples: false }

  it('is false while the editor holds the saved test, and true without a test', () => {
    expect(hasUnsavedChanges(saved)).toBe(false)
    expect(hasUnsavedChanges({ ...saved, name: ' Checkout ' })).toBe(false)
    expect(hasUnsavedChanges({ ...saved, test: null, savedScript: null })).toBe(true)
  })

  it('counts a changed script, name or raw-samples setting', () => {
    expect(hasUnsavedChanges({ ...saved, script: 'y' })).toBe(true)
    expect(hasUnsavedChanges({ ...saved, name: 'Other' })).toBe(true)
    expect(hasUnsavedChanges({ ...saved, rawSamples: true })).toBe(true)
    expect(hasUnsavedChanges({ ...saved, test: { ...test, rawSamples: true }, rawSamples: true })).toBe(false)
  })
})

describe('parseDraft', () => {
  it('restores a stored draft', () => {
    const draft = { script: 's', name: 'n', test: { id: 't', name: 'n', rawSamples: true }, savedScript: 's', rawSamples: true, runRawSamples: false }
    expect(parseDraft(JSON.stringify(draft))).toEqual(draft)
  })

  it('restores a draft stored before raw samples existed with them off', () => {
    expect(parseDraft(JSON.stringify({ script: 's', name: 'n', test: { id: 't', name: 'n' }, savedScript: 's' }))).toEqual({
      script: 's',
      name: 'n',
      test: { id: 't', name: 'n', rawSamples: false },
      savedScript: 's',
      rawSamples: false,
      runRawSamples: false,
    })
  })

  it('ignores storage that holds no draft or a damaged one', () => {
    expect(parseDraft(null)).toBeNull()
    expect(parseDraft('not json')).toBeNull()
    expect(parseDraft('{"script": 1}')).toBeNull()
    expect(parseDraft('{"script": "s", "name": "n", "test": {"id": 3}, "rawSamples": "yes"}')).toEqual({ script: 's', name: 'n', test: null, savedScript: null, rawSamples: false, runRawSamples: false })
  })
})

describe('RAW_SAMPLES_HELP', () => {
  it('says what raw samples keep and what they cost', () => {
    expect(RAW_SAMPLES_HELP).toContain('per-sample stream')
    expect(RAW_SAMPLES_HELP).toContain('download')
    expect(RAW_SAMPLES_HELP).toMatch(/costs throughput/)
  })
})

describe('files in the playground', () => {
  const test = { id: 't1', name: 'Checkout', rawSamples: false }
  const files = [{ path: 'data/users.json', sha256: 'a'.repeat(64) }]

  it('runs the saved test only while its files are unchanged too; else the script with the files', () => {
    expect(runInput('p1', { script: 'x', test, savedScript: 'x', runRawSamples: false, filesChanged: false }, 'us-east', files)).toEqual({ testId: 't1', location: 'us-east', rawSamples: false })
    expect(runInput('p1', { script: 'x', test, savedScript: 'x', runRawSamples: false, filesChanged: true }, 'us-east', files)).toEqual({ projectId: 'p1', script: 'x', location: 'us-east', rawSamples: false, files })
    expect(runInput('p1', { script: 'y', test: null, savedScript: null, runRawSamples: false }, 'us-east', [])).toEqual({ projectId: 'p1', script: 'y', location: 'us-east', rawSamples: false })
  })

  it('counts changed files as unsaved', () => {
    expect(hasUnsavedChanges({ script: 'x', name: 'Checkout', test, savedScript: 'x', rawSamples: false, filesChanged: true })).toBe(true)
  })

  it('restores the files and edits a draft kept, and drops a damaged file list', () => {
    const snapshot = { files: [{ ...files[0]!, size: 10 }], saved: [], edits: { 'data/users.json': '[]' } }
    const draft = { script: 's', name: 'n', test: null, savedScript: null, rawSamples: false, runRawSamples: false, files: snapshot }
    expect(parseDraft(JSON.stringify(draft))).toEqual(draft)
    expect(parseDraft(JSON.stringify({ ...draft, files: { files: [{ path: 1 }], saved: [] } }))).toEqual({ ...draft, files: undefined })
  })
})
