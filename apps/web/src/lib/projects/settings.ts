// The project settings form as text fields: the target allowlist is edited one entry per line
// and the API's per-entry errors are shown against those lines; the quotas are whole numbers,
// where an empty field means "the platform's default cap" (null in the API).

export interface AllowlistLines {
  /** The non-empty lines, trimmed: what projects.update receives. */
  entries: string[]
  /** The 1-based line number of each entry. */
  lines: number[]
}

export function allowlistFromText(text: string): AllowlistLines {
  const entries: string[] = []
  const lines: number[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const entry = raw.trim()
    if (!entry) return
    entries.push(entry)
    lines.push(i + 1)
  })
  return { entries, lines }
}

export const allowlistToText = (entries: readonly string[]) => entries.join('\n')

export interface EntryError {
  line: number
  entry: string
  message: string
}

/**
 * The per-entry errors of a rejected allowlist, from the API's issues (`allowlist.3`) when it
 * listed them, otherwise from its message (`allowlist.0: …; allowlist.3: …`). An entry's message
 * may itself contain "; ", so the message is cut at each `allowlist.<n>: ` marker.
 */
export function allowlistErrors(
  message: string,
  issues: readonly { path: string; message: string }[],
  allowlist: AllowlistLines,
): EntryError[] {
  const found: { index: number; message: string }[] = []
  for (const issue of issues) {
    const index = /^allowlist\.(\d+)$/.exec(issue.path)?.[1]
    if (index !== undefined) found.push({ index: Number(index), message: issue.message })
  }
  if (found.length === 0) {
    const markers = [...message.matchAll(/(?:^|; )allowlist\.(\d+): /g)]
    markers.forEach((m, i) => {
      const end = markers[i + 1]?.index ?? message.length
      found.push({ index: Number(m[1]), message: message.slice(m.index + m[0].length, end) })
    })
  }
  return found
    .filter((f) => f.index < allowlist.entries.length)
    .map((f) => ({ line: allowlist.lines[f.index]!, entry: allowlist.entries[f.index]!, message: f.message }))
}

export type QuotaField = { ok: true; value: number | null } | { ok: false; message: string }

/** A quota typed into a field: a whole number ≥ 1, or empty for the platform default when `nullable`. */
export function parseQuota(text: string, nullable: boolean): QuotaField {
  const trimmed = text.trim()
  if (trimmed === '') return nullable ? { ok: true, value: null } : { ok: false, message: 'is required' }
  if (!/^\d+$/.test(trimmed)) return { ok: false, message: 'must be a whole number' }
  const value = Number(trimmed)
  if (value < 1) return { ok: false, message: 'must be at least 1' }
  if (!Number.isSafeInteger(value)) return { ok: false, message: 'is too large' }
  return { ok: true, value }
}

export const quotaToText = (value: number | null) => (value === null ? '' : String(value))
