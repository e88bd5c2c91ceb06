import { describe, expect, it } from 'vitest'
import { appendPage, mergeNewest, type Page } from './history.ts'

/** Firing `n` was scheduled n seconds after a fixed minute; ids sort like their times. */
const f = (n: number, status = 'passed') => ({ id: `f${String(n).padStart(3, '0')}`, scheduledAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), status })
/** Newest first, as the API pages them; the cursor is the last id when more exist. */
const page = (newest: number, count: number, more: boolean): Page<ReturnType<typeof f>> => {
  const items = Array.from({ length: count }, (_, i) => f(newest - i))
  return { items, nextCursor: more ? items.at(-1)!.id : null }
}
const ids = (p: Page<{ id: string }>) => p.items.map((i) => i.id)

describe('mergeNewest', () => {
  it('keeps the rows that new firings pushed below the first page, so nothing vanishes while read', () => {
    const merged = mergeNewest(page(10, 3, true), page(12, 3, true))
    expect(ids(merged)).toEqual(['f012', 'f011', 'f010', 'f009', 'f008'])
    expect(merged.nextCursor).toBe('f008')
  })

  it('keeps older rows loaded with "Load more" below a fresh first page, with their cursor', () => {
    const loaded = appendPage(page(10, 3, true), page(7, 3, true)) // f010..f005
    const fresh = page(11, 3, true) // f011..f009, and f010's status changed
    fresh.items[1] = f(10, 'failed')
    const merged = mergeNewest(loaded, fresh)
    expect(ids(merged)).toEqual(['f011', 'f010', 'f009', 'f008', 'f007', 'f006', 'f005'])
    expect(merged.items[1]!.status).toBe('failed')
    expect(merged.nextCursor).toBe('f005')
  })

  it('starts again from the fresh page when it does not reach the rows loaded before', () => {
    const loaded = appendPage(page(10, 3, true), page(7, 3, true))
    const merged = mergeNewest(loaded, page(20, 3, true))
    expect(ids(merged)).toEqual(['f020', 'f019', 'f018'])
    expect(merged.nextCursor).toBe('f018')
  })

  it('takes the fresh page when it holds every firing there is', () => {
    expect(mergeNewest(page(5, 5, false), page(6, 6, false))).toEqual(page(6, 6, false))
    expect(mergeNewest(page(5, 5, false), { items: [], nextCursor: null })).toEqual({ items: [], nextCursor: null })
  })
})

describe('appendPage', () => {
  it('adds the next page without repeating rows and takes its cursor', () => {
    const next = appendPage(page(10, 3, true), page(8, 3, false))
    expect(ids(next)).toEqual(['f010', 'f009', 'f008', 'f007', 'f006'])
    expect(next.nextCursor).toBeNull()
  })
})
