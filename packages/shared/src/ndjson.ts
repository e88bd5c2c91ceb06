// Newline-delimited JSON files the platform reads back (the console index, metric frames): each
// line parsed and checked on its own, so one damaged line costs only itself.
import type { z } from 'zod'

/** The lines of `text` that are JSON and match `schema`, in order; blank and other lines are skipped. */
export function parseNdjson<T>(text: string, schema: z.ZodType<T>): T[] {
  const out: T[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      continue
    }
    const parsed = schema.safeParse(value)
    if (parsed.success) out.push(parsed.data)
  }
  return out
}
