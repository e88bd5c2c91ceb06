// Building blocks every API input schema uses, so that input Postgres cannot store is refused
// up front with a message naming the field instead of failing deep inside a query:
// - ids are UUIDs (the columns are `uuid`; anything else makes Postgres fail the query);
// - whole numbers carry a maximum that fits their column (`integer` is int4) or a smaller cap;
// - `findUnstorableText` finds NUL characters, which Postgres text and jsonb cannot hold, anywhere
//   in a raw input; the API runs it on every call before any schema (apps/api/src/trpc.ts).
import { z } from 'zod'

/** The largest value of a Postgres `integer` (int4) column. */
export const INT4_MAX = 2_147_483_647

/** An id the API returned: every id column is a Postgres `uuid`. */
export const idSchema = (what = 'an id as returned by the API') => z.uuid({ error: `must be ${what} (a UUID)` })

/** The `cursor` of a paged list: the `nextCursor` of the previous page, an id. */
export const cursorSchema = idSchema('the nextCursor of the previous page, an id')

/**
 * A whole number in [min, max], with the bound in the message. Give `max` the cap that means
 * something, else the column's (INT4_MAX): a number past the column is refused, never stored.
 */
export function wholeNumber(min: number, max: number, unit = '') {
  const suffix = unit ? ` ${unit}` : ''
  return (
    z
      .number({ error: 'must be a number' })
      // The bounds abort, so 1e308 gets one message ("at most …"), not also "not a safe integer".
      .min(min, { error: `must be at least ${min}${suffix}`, abort: true })
      .max(max, { error: `must be at most ${max}${suffix}`, abort: true })
      .int({ error: 'must be a whole number' })
  )
}

/** Deeper than this, no Stampede input goes; a deeper raw input is refused before any schema. */
export const MAX_INPUT_DEPTH = 32
const MAX_PROBLEMS = 10

export const NUL_MESSAGE = 'contains a NUL character (\\u0000), which cannot be stored; remove it'

export interface InputProblem {
  path: (string | number)[]
  message: string
}

/**
 * Every string in `input` (object keys included, at any depth) that holds a NUL character, and
 * anything nested deeper than MAX_INPUT_DEPTH. Walks without recursion, so hostile nesting
 * cannot exhaust the stack; reports at most 10 problems.
 */
export function findUnstorableText(input: unknown): InputProblem[] {
  const problems: InputProblem[] = []
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: input, path: [] }]
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const { value, path } = stack.pop()!
    if (typeof value === 'string') {
      if (value.includes('\0')) problems.push({ path, message: NUL_MESSAGE })
      continue
    }
    if (typeof value !== 'object' || value === null) continue
    if (path.length >= MAX_INPUT_DEPTH) {
      problems.push({ path, message: `is nested more than ${MAX_INPUT_DEPTH} levels deep; no Stampede input is` })
      continue
    }
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value)
    const children = entries.filter(([key]) => {
      if (typeof key === 'number' || !key.includes('\0')) return true
      problems.push({ path, message: `has a key ${JSON.stringify(key)} that ${NUL_MESSAGE}` })
      return false
    })
    // Pushed in reverse, so problems come out in the input's order.
    for (let i = children.length - 1; i >= 0; i--) stack.push({ value: children[i]![1], path: [...path, children[i]![0]] })
  }
  return problems.slice(0, MAX_PROBLEMS)
}
