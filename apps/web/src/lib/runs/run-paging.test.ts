import { describe, expect, it } from 'vitest'
import { appendPage, filtersFromSearch, mergeHead, searchForFilters } from './run-paging.ts'

const run = (id: string, status = 'running') => ({ id, status })

describe('mergeHead', () => {
  it('updates runs already shown, puts new ones on top and keeps older pages', () => {
    const shown = [run('c'), run('b'), run('a', 'passed')]
    const head = [run('d', 'queued'), run('c', 'passed'), run('b')]
    expect(mergeHead(shown, head).map((r) => `${r.id}:${r.status}`)).toEqual(['d:queued', 'c:passed', 'b:running', 'a:passed'])
  })
})

describe('appendPage', () => {
  it('appends the next page without repeating a run that slid across the page boundary', () => {
    expect(appendPage([run('c'), run('b')], [run('b'), run('a')]).map((r) => r.id)).toEqual(['c', 'b', 'a'])
  })
})

describe('run filters in the address', () => {
  it('round-trips status, location and test, leaving out empty ones', () => {
    const filters = { status: 'failed' as const, location: 'eu-central', testId: 'a b' }
    const search = searchForFilters(filters)
    expect(search).toBe('status=failed&location=eu-central&test=a%20b')
    expect(filtersFromSearch(new URLSearchParams(search))).toEqual(filters)
    expect(searchForFilters({})).toBe('')
  })

  it('ignores a status that is not one', () => {
    expect(filtersFromSearch(new URLSearchParams('status=exploded'))).toEqual({ status: undefined, location: undefined, testId: undefined })
  })
})
