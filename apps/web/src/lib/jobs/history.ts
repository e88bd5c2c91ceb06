// The job page's firing history: pages from jobs.history (newest first) joined by "Load more",
// and the first page polled while the page is open. A poll replaces the rows it covers and keeps
// older rows loaded earlier — unless so many firings came in between that the two would leave a
// hole, when the history starts again from the fresh page.
export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

interface Firing {
  id: string
  scheduledAt: string
}

/** Whether `a` comes after `b` in the API's order (scheduledAt desc, id desc). */
const isOlder = (a: Firing, b: Firing) => a.scheduledAt < b.scheduledAt || (a.scheduledAt === b.scheduledAt && a.id < b.id)

export function mergeNewest<T extends Firing>(loaded: Page<T>, fresh: Page<T>): Page<T> {
  const oldestFresh = fresh.items.at(-1)
  if (fresh.nextCursor === null || !oldestFresh) return fresh
  const freshIds = new Set(fresh.items.map((f) => f.id))
  const older = loaded.items.filter((f) => !freshIds.has(f.id) && isOlder(f, oldestFresh))
  const joined = loaded.items.some((f) => freshIds.has(f.id))
  if (older.length === 0 || !joined) return fresh
  return { items: [...fresh.items, ...older], nextCursor: loaded.nextCursor }
}

/** `loaded` followed by the next page (rows already shown are not repeated). */
export function appendPage<T extends Firing>(loaded: Page<T>, next: Page<T>): Page<T> {
  const seen = new Set(loaded.items.map((f) => f.id))
  return { items: [...loaded.items, ...next.items.filter((f) => !seen.has(f.id))], nextCursor: next.nextCursor }
}
