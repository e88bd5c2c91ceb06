// Test variables and secrets: names a k6 script reads as `__ENV.<NAME>`. A name may not shadow
// the settings k6 reads from its environment (K6_*) or those the runner sets for it (PATH, HOME,
// TMPDIR): the runner's own values would win anyway, so such a name is refused up front.
import { z } from 'zod'
import { NUL_MESSAGE } from './input.ts'

export const MAX_VARIABLES = 100
export const MAX_VARIABLE_VALUE_BYTES = 32 * 1024
const RESERVED_NAMES = ['PATH', 'HOME', 'TMPDIR']

export const variableNameSchema = z
  .string({ error: 'must be an environment variable name' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name: letters, digits and _, not starting with a digit (e.g. API_TOKEN)')
  .max(128, 'must be at most 128 characters')
  .refine((n) => !/^K6_/i.test(n), { message: 'must not start with K6_: those names are k6 settings the platform controls' })
  .refine((n) => !RESERVED_NAMES.includes(n.toUpperCase()), { message: `must not be ${RESERVED_NAMES.join(', ')}: the runner sets those for k6` })

const variableValueSchema = z
  .string({ error: 'must be a string' })
  .refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_VARIABLE_VALUE_BYTES, { message: `must be at most ${MAX_VARIABLE_VALUE_BYTES / 1024} KB` })
  // The API refuses NUL anywhere before any schema; this keeps forms that use the schema alone in line.
  .refine((v) => !v.includes('\0'), { message: NUL_MESSAGE })

export const variableInput = z.object({ name: variableNameSchema, value: variableValueSchema }).strict()
export type VariableInput = z.infer<typeof variableInput>

/** A list of name/value pairs with unique names. */
export const variableListSchema = z
  .array(variableInput)
  .max(MAX_VARIABLES, `must have at most ${MAX_VARIABLES} entries`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>()
    list.forEach((v, i) => {
      if (seen.has(v.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `${v.name} is given twice` })
      seen.add(v.name)
    })
  })

/** Plain variables of an unsaved run, as `{ NAME: value }`. */
export const runEnvSchema = z
  .record(variableNameSchema, variableValueSchema)
  .refine((env) => Object.keys(env).length <= MAX_VARIABLES, { message: `must have at most ${MAX_VARIABLES} variables` })

/** Refines a create/update input so no name is both a variable and a secret. */
export function refineDistinctNames(v: { variables?: VariableInput[] | undefined; secrets?: VariableInput[] | undefined }, ctx: z.RefinementCtx): void {
  const plain = new Set((v.variables ?? []).map((x) => x.name))
  ;(v.secrets ?? []).forEach((s, i) => {
    if (plain.has(s.name)) ctx.addIssue({ code: 'custom', path: ['secrets', i, 'name'], message: `${s.name} is also given as a plain variable; a name is either a variable or a secret` })
  })
}
