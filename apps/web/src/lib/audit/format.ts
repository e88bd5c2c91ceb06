// How audit events read in the log table: details as `key: value` pairs, targets by type with a
// short id (the full id is in the cell's title).

/** `{ role: 'viewer', email: 'a@b.c' }` → `role: viewer, email: a@b.c`; nested values as JSON. */
export function formatDetails(details: unknown): string {
  if (details === null || details === undefined) return ''
  if (typeof details !== 'object') return String(details)
  if (Array.isArray(details)) return JSON.stringify(details)
  return Object.entries(details as Record<string, unknown>)
    .map(([key, value]) => `${key}: ${value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(', ')
}

/** `run` + a UUID → `run 1b9d6bcd`; an event about no particular object → its type alone. */
export function formatTarget(targetType: string | null, targetId: string | null): string {
  if (!targetType) return ''
  return targetId ? `${targetType} ${targetId.slice(0, 8)}` : targetType
}
