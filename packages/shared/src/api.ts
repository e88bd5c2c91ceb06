// Input schemas of the public API. The tRPC router validates with these, and the web app and
// SDK reuse them for forms, so every client reports the same field-named errors.
import { z } from 'zod'
import { locationIdSchema } from './locations.ts'
import { artifactNameSchema, runStatusSchema } from './run.ts'
import { projectIdSchema } from './access.ts'
import { cursorSchema, idSchema, wholeNumber } from './input.ts'
import { MAX_VARIABLES, runEnvSchema, variableListSchema, variableNameSchema } from './variables.ts'

export const MAX_SCRIPT_BYTES = 500 * 1024

export const scriptSchema = z
  .string({ error: 'must be a string of k6 JavaScript or TypeScript' })
  .min(1, 'is empty; paste or write a k6 script')
  .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_SCRIPT_BYTES, {
    message: `is larger than ${MAX_SCRIPT_BYTES / 1024} KB; move data into a SharedArray file or shrink it`,
  })

/**
 * Raw samples: whether a run also keeps k6's per-sample JSON stream (`--out json`) as the
 * `samples` artifact (samples.json.gz). Off by default: writing it costs k6 up to ~40 % of its
 * request rate on CPU-bound scripts. Every run keeps the per-second `metrics` artifact either way.
 */
export const rawSamplesSchema = z.boolean({ error: 'must be true or false' })

export const testIdSchema = idSchema()
export const runIdSchema = idSchema()

export const testCreateInput = z.object({
  /** Optional when the caller belongs to exactly one project (always so for an API token). */
  projectId: projectIdSchema.optional(),
  name: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters'),
  description: z.string().max(5000, 'must be at most 5000 characters').optional(),
  script: scriptSchema,
  /** Plain variables, read by the script as __ENV.NAME; returned as given. */
  variables: variableListSchema.optional(),
  /** Secrets, read as __ENV.NAME; stored encrypted, never returned, masked in the console. */
  secrets: variableListSchema.optional(),
  /** The test's runs keep k6's per-sample stream (the `samples` artifact) unless a run says otherwise. Default false. */
  rawSamples: rawSamplesSchema.optional(),
})
export const testUpdateInput = z.object({
  id: idSchema(),
  name: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters').optional(),
  description: testCreateInput.shape.description,
  script: scriptSchema.optional(),
  /** Replaces all plain variables when given. */
  variables: variableListSchema.optional(),
  /** Sets or replaces these secrets by name; other secrets are kept. */
  secrets: variableListSchema.optional(),
  /** Deletes these secrets. */
  removeSecrets: z.array(variableNameSchema).max(MAX_VARIABLES).optional(),
  /** Turns raw samples on or off for the test's later runs; kept when not given. */
  rawSamples: rawSamplesSchema.optional(),
})
export const byIdInput = z.object({ id: idSchema() })
export const testListInput = z.object({ projectId: projectIdSchema.optional() }).default({})

export const runTimeoutSchema = wholeNumber(5, 24 * 3600, 'seconds')

/** A run of a saved test (`testId`) or of an unsaved playground script (`script`). */
export const runStartInput = z
  .object({
    testId: testIdSchema.optional(),
    script: scriptSchema.optional(),
    /** The project an unsaved script runs in (a saved test's run belongs to the test's project). */
    projectId: projectIdSchema.optional(),
    location: locationIdSchema,
    timeoutSeconds: runTimeoutSchema.optional(),
    /** Plain variables for this run (__ENV.NAME); with testId they override the test's. */
    env: runEnvSchema.optional(),
    /** Keep k6's per-sample stream (the `samples` artifact) for this run. Default: the saved test's setting, else false. */
    rawSamples: rawSamplesSchema.optional(),
  })
  .strict()
  .refine((v) => (v.testId === undefined) !== (v.script === undefined), {
    message: 'give either testId (a saved test) or script (an unsaved script), not both',
    path: ['testId'],
  })
export type RunStartInput = z.infer<typeof runStartInput>

export const runListInput = z
  .object({
    projectId: projectIdSchema.optional(),
    testId: testIdSchema.optional(),
    status: runStatusSchema.optional(),
    location: locationIdSchema.optional(),
    limit: wholeNumber(1, 200).default(50),
    cursor: cursorSchema.optional(),
  })
  .default({ limit: 50 })

export const artifactUrlInput = z.object({ runId: runIdSchema, name: artifactNameSchema })

/** `scripts.validate`: the script only; validation never runs it. */
export const scriptValidateInput = z.object({ script: scriptSchema, projectId: projectIdSchema.optional() })
export const templateByIdInput = z.object({ id: z.string().min(1, 'is required: a template id from templates.list').max(100, 'must be at most 100 characters: a template id from templates.list') })
