// Masks secret values in k6's output before it is heartbeated, relayed or archived. Each line is
// redacted whole, so a secret split across two lines is not caught. Besides the value itself,
// values of 4+ characters are also masked in the encoded forms a script is likely to print
// (URL-encoded, base64, JSON-escaped). An empty value is never searched for.
import { readFile, writeFile } from 'node:fs/promises'

export const SECRET_MASK = '[secret]'

export type Redact = (text: string) => string

export function secretRedactor(values: Iterable<string>): Redact {
  const needles = new Set<string>()
  for (const v of values) {
    if (v === '') continue
    needles.add(v)
    if (v.length < 4) continue
    const bytes = Buffer.from(v, 'utf8')
    for (const form of [encodeURIComponent(v), bytes.toString('base64'), bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64url'), JSON.stringify(v).slice(1, -1)]) {
      if (form.length >= 4) needles.add(form)
    }
  }
  // Longest first, so a secret containing another is masked whole.
  const ordered = [...needles].sort((a, b) => b.length - a.length)
  if (ordered.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const n of ordered) if (out.includes(n)) out = out.split(n).join(SECRET_MASK)
    return out
  }
}

/** `value` with every string in it (object keys included) redacted. */
export function redactJson(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value)
  if (Array.isArray(value)) return value.map((v) => redactJson(v, redact))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactJson(v, redact)]))
  }
  return value
}

/** Rewrites k6's summary export with secrets masked, when it exists and carries any. */
export async function redactSummaryFile(file: string, redact: Redact): Promise<void> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return
  }
  if (redact(text) === text) return
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // Not JSON (k6 died mid-write): masking the text is the best left to do.
    await writeFile(file, redact(text))
    return
  }
  await writeFile(file, JSON.stringify(redactJson(json, redact), null, 2))
}
