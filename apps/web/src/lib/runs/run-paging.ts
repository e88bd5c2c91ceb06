// Pure helpers of the paged run history (run-list.svelte.ts) and of its filters in the address.
import { RUN_STATUSES, type RunStatus } from '@stampede/shared'

export interface RunFilters {
  status?: RunStatus | undefined
  location?: string | undefined
  testId?: string | undefined
}

/** Newer first page merged into what is shown: updated runs replaced, new ones on top, none twice. */
export function mergeHead<T extends { id: string }>(shown: readonly T[], head: readonly T[]): T[] {
  const fresh = new Map(head.map((r) => [r.id, r]))
  const known = new Set(shown.map((r) => r.id))
  const added = head.filter((r) => !known.has(r.id))
  return [...added, ...shown.map((r) => fresh.get(r.id) ?? r)]
}

/** The next page appended; a run that moved pages meanwhile (a new run pushed it) is not repeated. */
export function appendPage<T extends { id: string }>(shown: readonly T[], page: readonly T[]): T[] {
  const known = new Set(shown.map((r) => r.id))
  return [...shown, ...page.filter((r) => !known.has(r.id))]
}

/** Filters from the runs page's address (`?status=&location=&test=`); unknown statuses are ignored. */
export function filtersFromSearch(search: URLSearchParams): RunFilters {
  const status = search.get('status')
  return {
    status: status && (RUN_STATUSES as readonly string[]).includes(status) ? (status as RunStatus) : undefined,
    location: search.get('location') || undefined,
    testId: search.get('test') || undefined,
  }
}

/** The address query for filters, without empty ones (`status=failed&test=…`), or ''. */
export function searchForFilters(filters: RunFilters): string {
  const parts: [string, string | undefined][] = [
    ['status', filters.status],
    ['location', filters.location],
    ['test', filters.testId],
  ]
  return parts
    .filter((p): p is [string, string] => Boolean(p[1]))
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&')
}
