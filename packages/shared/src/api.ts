// Input schemas of the public API. The tRPC router validates with these, and the web app and
// SDK reuse them for forms, so every client reports the same field-named errors.
import { z } from 'zod'
import { locationIdSchema } from './locations.ts'
import { artifactNameSchema, runStatusSchema } from './run.ts'

export const MAX_SCRIPT_BYTES = 500 * 1024

export const scriptSchema = z
  .string({ error: 'script must be a string of k6 JavaScript/TypeScript' })
  .min(1, 'script is empty: paste or write a k6 script')
  .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_SCRIPT_BYTES, {
    message: `script is larger than ${MAX_SCRIPT_BYTES / 1024} KB; move data into a SharedArray file or shrink it`,
  })

const idSchema = (what: string) => z.uuid({ error: `${what} must be a UUID as returned by the API` })

export const testIdSchema = idSchema('testId')
export const runIdSchema = idSchema('runId')

export const testCreateInput = z.object({
  name: z.string().trim().min(1, 'name is required').max(200, 'name is at most 200 characters'),
  description: z.string().max(5000, 'description is at most 5000 characters').optional(),
  script: scriptSchema,
})
export const testUpdateInput = z.object({
  id: idSchema('id'),
  name: testCreateInput.shape.name.optional(),
  description: testCreateInput.shape.description,
  script: scriptSchema.optional(),
})
export const byIdInput = z.object({ id: idSchema('id') })

export const runTimeoutSchema = z
  .number()
  .int('timeoutSeconds must be a whole number of seconds')
  .min(5, 'timeoutSeconds must be at least 5')
  .max(24 * 3600, 'timeoutSeconds must be at most 86400 (24 h)')

export const runStartInput = z.union(
  [
    z.object({ testId: testIdSchema, location: locationIdSchema, timeoutSeconds: runTimeoutSchema.optional() }).strict(),
    z.object({ script: scriptSchema, location: locationIdSchema, timeoutSeconds: runTimeoutSchema.optional() }).strict(),
  ],
  { error: 'runs.start needs { testId, location } or { script, location }' },
)
export type RunStartInput = z.infer<typeof runStartInput>

export const runListInput = z
  .object({
    testId: testIdSchema.optional(),
    status: runStatusSchema.optional(),
    location: locationIdSchema.optional(),
    limit: z.number().int().min(1).max(200).default(50),
    cursor: z.string().optional(),
  })
  .default({ limit: 50 })

export const artifactUrlInput = z.object({ runId: runIdSchema, name: artifactNameSchema })
