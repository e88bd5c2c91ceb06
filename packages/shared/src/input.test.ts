import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { auditListInput, projectUpdateInput } from './access.ts'
import { runListInput, runStartInput } from './api.ts'
import { INT4_MAX, findUnstorableText, idSchema, wholeNumber } from './input.ts'
import { jobCreateInput, jobHistoryInput } from './jobs.ts'

const ID = '7f1d2a4e-0000-4000-8000-000000000001'
const messages = (schema: z.ZodType, value: unknown) => schema.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? []

describe('findUnstorableText', () => {
  it('finds NUL characters in strings at any depth, in arrays, and in record keys', () => {
    const input = { name: 'ok', variables: [{ name: 'A', value: 'x' }, { name: 'B', value: 'y' }, { name: 'C', value: 'a\u0000b' }], env: { ['K\u0000']: 'v', OK: '\u0000' } }
    expect(findUnstorableText(input)).toEqual([
      { path: ['variables', 2, 'value'], message: 'contains a NUL character (\\u0000), which cannot be stored; remove it' },
      { path: ['env'], message: 'has a key "K\\u0000" that contains a NUL character (\\u0000), which cannot be stored; remove it' },
      { path: ['env', 'OK'], message: 'contains a NUL character (\\u0000), which cannot be stored; remove it' },
    ])
    expect(findUnstorableText('\u0000')).toEqual([{ path: [], message: expect.stringContaining('NUL') }])
  })

  it('passes clean input of any kind', () => {
    for (const clean of [undefined, null, 0, 1e308, true, '', 'text with \\u0000 written out', { a: [1, 'b', { c: null }] }, ['x']]) expect(findUnstorableText(clean)).toEqual([])
  })

  it('refuses nesting deeper than any input, and reports at most ten problems', () => {
    let deep: unknown = 'leaf'
    for (let i = 0; i < 50_000; i++) deep = [deep]
    const [problem, ...rest] = findUnstorableText({ junk: deep })
    expect(rest).toEqual([])
    expect(problem?.path).toHaveLength(32)
    expect(problem?.message).toBe('is nested more than 32 levels deep; no Stampede input is')
    expect(findUnstorableText(Array.from({ length: 50 }, () => '\u0000'))).toHaveLength(10)
  })
})

describe('whole numbers', () => {
  const n = wholeNumber(1, INT4_MAX)
  it('name the bound they break, once, and refuse fractions and non-numbers', () => {
    expect(messages(n, 2 ** 31)).toEqual([': must be at most 2147483647'])
    expect(messages(n, 1e308)).toEqual([': must be at most 2147483647'])
    expect(messages(n, -1)).toEqual([': must be at least 1'])
    expect(messages(n, -1e308)).toEqual([': must be at least 1'])
    expect(messages(n, 1.5)).toEqual([': must be a whole number'])
    expect(messages(n, '5')).toEqual([': must be a number'])
    expect(messages(n, INT4_MAX)).toEqual([])
  })
})

describe('the API input schemas', () => {
  it('refuse a cursor or id that is not a UUID, naming the field', () => {
    expect(messages(runListInput, { cursor: 'abc' })).toEqual(['cursor: must be the nextCursor of the previous page, an id (a UUID)'])
    expect(messages(auditListInput, { cursor: "1' OR 1=1" })).toEqual(['cursor: must be the nextCursor of the previous page, an id (a UUID)'])
    expect(messages(jobHistoryInput, { id: ID, cursor: '' })).toEqual(['cursor: must be the nextCursor of the previous page, an id (a UUID)'])
    expect(messages(runListInput, { cursor: ID })).toEqual([])
    expect(messages(idSchema(), 'abc')).toEqual([': must be an id as returned by the API (a UUID)'])
  })

  it('cap every whole number at its column or a smaller limit', () => {
    const job = { name: 'j', testIds: [ID], location: 'us-east', cron: '0 2 * * *' }
    expect(messages(jobCreateInput, { ...job, maxFirings: 2 ** 31 })).toEqual(['maxFirings: must be at most 2147483647'])
    expect(messages(projectUpdateInput, { projectId: ID, maxVus: 2 ** 31, maxDurationSeconds: 2 ** 31, maxConcurrentRuns: 2 ** 31 })).toEqual([
      'maxConcurrentRuns: must be at most 1000',
      'maxVus: must be at most 2147483647',
      'maxDurationSeconds: must be at most 2147483647',
    ])
    expect(messages(runStartInput, { script: 'x', location: 'us-east', timeoutSeconds: 2 ** 31 })).toEqual(['timeoutSeconds: must be at most 86400 seconds'])
    expect(messages(runListInput, { limit: 1e308 })).toEqual(['limit: must be at most 200'])
  })
})
