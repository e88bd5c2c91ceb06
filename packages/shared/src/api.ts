// Input schemas of the public API. The tRPC router validates with these, and the web app and
// SDK reuse them for forms, so every client reports the same field-named errors.
import { z } from 'zod'
import { locationIdSchema } from './locations.ts'
import { artifactNameSchema, runStatusSchema } from './run.ts'
import { projectIdSchema } from './access.ts'
import { cursorSchema, idSchema, wholeNumber } from './input.ts'
import { MAX_VARIABLES, runEnvSchema, variableListSchema, variableNameSchema } from './variables.ts'
import { checkFilePath } from './files.ts'

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

/** A stored file's content hash: SHA-256 in lowercase hex, as the upload answered it. */
export const sha256Schema = z
  .string({ error: 'must be a SHA-256 in lowercase hex (64 characters), as the upload answered it' })
  .regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lowercase hex (64 characters), as the upload answered it')

/** A file's path relative to the test's script, in its stored form (checkFilePath). */
export const filePathSchema = z
  .string({ error: 'must be a file name relative to the script, e.g. data/users.json' })
  .max(1000, 'must be at most 1000 characters')
  .transform((path, ctx) => {
    const checked = checkFilePath(path)
    if (checked.ok) return checked.path
    ctx.addIssue({ code: 'custom', message: checked.message })
    return z.NEVER
  })

/**
 * The most files any request may name; the platform's own cap (FILES_MAX_COUNT, default 200)
 * is applied by the API with the numbers in its message.
 */
export const MAX_FILE_REFS = 1000

/** A test's files as uploaded: each path with the SHA-256 of its bytes. Replaces the whole set where given. */
export const fileRefsSchema = z
  .array(z.object({ path: filePathSchema, sha256: sha256Schema }).strict(), { error: 'must be a list of { path, sha256 }' })
  .max(MAX_FILE_REFS, `must name at most ${MAX_FILE_REFS} files`)
  .superRefine((files, ctx) => {
    const seen = new Set<string>()
    files.forEach((f, i) => {
      if (seen.has(f.path)) ctx.addIssue({ code: 'custom', path: [i, 'path'], message: `${f.path} is given twice; each file needs its own name` })
      seen.add(f.path)
    })
  })
export type FileRefs = z.output<typeof fileRefsSchema>

/** A test or run is a script with files, or an archive: never both. */
function entryProblems(v: { script?: unknown; files?: unknown; archive?: unknown }, ctx: z.RefinementCtx): void {
  if (v.archive === undefined) return
  if (v.script !== undefined) ctx.addIssue({ code: 'custom', path: ['archive'], message: 'give either script (with its files) or archive (a k6 archive holds its own script and files), not both' })
  if (v.files !== undefined) ctx.addIssue({ code: 'custom', path: ['files'], message: 'a k6 archive holds its own files; give files only with a script' })
}

export const testCreateInput = z.object({
  /** Optional when the caller belongs to exactly one project (always so for an API token). */
  projectId: projectIdSchema.optional(),
  name: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters'),
  description: z.string().max(5000, 'must be at most 5000 characters').optional(),
  /** The entry script; or `archive`. */
  script: scriptSchema.optional(),
  /** The test's files (data files and modules) at paths relative to the script, uploaded first. */
  files: fileRefsSchema.optional(),
  /** A k6 archive (`k6 archive`, uploaded first) that the test runs instead of a script and files. */
  archive: sha256Schema.optional(),
  /** Plain variables, read by the script as __ENV.NAME; returned as given. */
  variables: variableListSchema.optional(),
  /** Secrets, read as __ENV.NAME; stored encrypted, never returned, masked in the console. */
  secrets: variableListSchema.optional(),
  /** The test's runs keep k6's per-sample stream (the `samples` artifact) unless a run says otherwise. Default false. */
  rawSamples: rawSamplesSchema.optional(),
}).superRefine((v, ctx) => {
  if (v.script === undefined && v.archive === undefined) ctx.addIssue({ code: 'custom', path: ['script'], message: 'is required: give the k6 script (or archive: a k6 archive uploaded first)' })
  else entryProblems(v, ctx)
})
export const testUpdateInput = z.object({
  id: idSchema(),
  name: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters').optional(),
  description: testCreateInput.shape.description,
  script: scriptSchema.optional(),
  /** Replaces the test's whole file set when given ([] removes every file). */
  files: fileRefsSchema.optional(),
  /** Makes the test run this k6 archive (uploaded first) instead of its script and files. */
  archive: sha256Schema.optional(),
  /** Replaces all plain variables when given. */
  variables: variableListSchema.optional(),
  /** Sets or replaces these secrets by name; other secrets are kept. */
  secrets: variableListSchema.optional(),
  /** Deletes these secrets. */
  removeSecrets: z.array(variableNameSchema).max(MAX_VARIABLES).optional(),
  /** Turns raw samples on or off for the test's later runs; kept when not given. */
  rawSamples: rawSamplesSchema.optional(),
}).superRefine(entryProblems)
export const byIdInput = z.object({ id: idSchema() })
export const testListInput = z.object({ projectId: projectIdSchema.optional() }).default({})

export const runTimeoutSchema = wholeNumber(5, 24 * 3600, 'seconds')

/** A run of a saved test (`testId`) or of an unsaved playground script (`script`). */
export const runStartInput = z
  .object({
    testId: testIdSchema.optional(),
    script: scriptSchema.optional(),
    /** The unsaved script's files (uploaded first), at paths relative to it. */
    files: fileRefsSchema.optional(),
    /** An unsaved k6 archive (uploaded first) to run instead of a script. */
    archive: sha256Schema.optional(),
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
  .superRefine((v, ctx) => {
    const given = [v.testId, v.script, v.archive].filter((x) => x !== undefined).length
    if (given !== 1) ctx.addIssue({ code: 'custom', path: ['testId'], message: 'give exactly one of testId (a saved test), script (an unsaved script, with its files) or archive (an uploaded k6 archive)' })
    else if (v.files !== undefined && v.script === undefined) ctx.addIssue({ code: 'custom', path: ['files'], message: "files go with an unsaved script; a saved test's runs take the test's files, and an archive holds its own" })
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
export const scriptValidateInput = z.object({
  script: scriptSchema,
  projectId: projectIdSchema.optional(),
  /** The test's files (uploaded first): local imports and literal open() paths must name one of them. */
  files: fileRefsSchema.optional(),
})

/** `runs.rerun`: a new run of exactly what an earlier run ran (script, files or archive, variables). */
export const runRerunInput = z.object({
  id: runIdSchema,
  /** Default: the earlier run's location. */
  location: locationIdSchema.optional(),
  timeoutSeconds: runTimeoutSchema.optional(),
}).strict()
export const runFilesInput = z.object({ runId: runIdSchema })
/** `files.missing`: which of these blobs the project does not have yet (upload only those). */
export const fileMissingInput = z.object({
  projectId: projectIdSchema.optional(),
  sha256: z.array(sha256Schema).max(MAX_FILE_REFS + 1, `must list at most ${MAX_FILE_REFS + 1} hashes`),
})
/** `files.read`: one stored file's bytes, for the web's editor and preview. */
export const fileReadInput = z.object({ projectId: projectIdSchema.optional(), sha256: sha256Schema })
export const templateByIdInput = z.object({ id: z.string().min(1, 'is required: a template id from templates.list').max(100, 'must be at most 100 characters: a template id from templates.list') })
