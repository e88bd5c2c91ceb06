// Helpers of the commands that take a k6 script (validate, run, tests push): reading the script
// file, validating it on the API (with its files), saving it as a test (script and files, or a
// k6 archive), and the --raw-samples options.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { ParseArgsConfig } from 'node:util'
import type { FileRef, ScriptValidation, StampedeClient, Test } from '@stampede/sdk'
import { ScriptFileError, UsageError, type CliIo, type CommandContext } from '../context.ts'

/** --raw-samples / --no-raw-samples: true, false, or undefined when neither is given. */
export const RAW_SAMPLES_OPTIONS = {
  'raw-samples': { type: 'boolean' },
  'no-raw-samples': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options']

export function rawSamplesOption(values: { 'raw-samples'?: boolean | undefined; 'no-raw-samples'?: boolean | undefined }): boolean | undefined {
  if (values['raw-samples'] && values['no-raw-samples']) throw new UsageError('--raw-samples and --no-raw-samples contradict each other; give one')
  return values['raw-samples'] ? true : values['no-raw-samples'] ? false : undefined
}

export async function readScript(io: CliIo, file: string): Promise<string> {
  const full = path.resolve(io.cwd, file)
  if (!/\.(m?js|ts)$/.test(full)) throw new UsageError(`${file}: a k6 script must be a .js, .mjs or .ts file`)
  let text: string
  try {
    text = await readFile(full, 'utf8')
  } catch (err) {
    throw new UsageError(`${file}: cannot read the script (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  if (text.trim() === '') throw new ScriptFileError(`${file}: the script is empty`)
  return text
}

/** What a saved test runs: a script with its files (uploaded first), or an uploaded k6 archive. */
export type TestEntry = { script: string; files: FileRef[] } | { archive: string }

/**
 * Creates the saved test `name`, or updates it if it exists (and its raw-samples setting when
 * given). Files replace the test's file set; an existing test's files are cleared when the
 * script no longer has any.
 */
export async function pushTest(client: StampedeClient, name: string, entry: TestEntry, description?: string, rawSamples?: boolean): Promise<{ test: Test; created: boolean }> {
  const more = { ...(description !== undefined ? { description } : {}), ...(rawSamples !== undefined ? { rawSamples } : {}) }
  const existing = (await client.tests.list.query()).find((t) => t.name === name)
  const given = 'archive' in entry ? { archive: entry.archive } : { script: entry.script, ...(entry.files.length > 0 || (existing?.files?.length ?? 0) > 0 ? { files: entry.files } : {}) }
  if (existing) return { test: await client.tests.update.mutate({ id: existing.id, ...given, ...more }), created: false }
  return { test: await client.tests.create.mutate({ name, ...given, ...more }), created: true }
}

/** Validates on the API; prints findings as file:line:column. Returns false when the script has errors. */
export async function validate(ctx: CommandContext, file: string, script: string, quietWhenOk: boolean, files: FileRef[] = []): Promise<{ ok: boolean; result: ScriptValidation }> {
  const result = await ctx.client.scripts.validate.mutate({ script, ...(files.length > 0 ? { files } : {}) })
  const to = ctx.json ? ctx.io.stderr : result.ok ? ctx.io.stdout : ctx.io.stderr
  // A finding in one of the test's modules names that module, beside the script as on disk.
  const where = (f: { file?: string | undefined }) => (f.file ? path.join(path.dirname(file), f.file) : file)
  for (const f of result.errors) to.write(`${where(f)}:${f.line}:${f.column} error ${f.code}: ${f.message}\n`)
  for (const f of result.warnings) ctx.io.stderr.write(`${where(f)}:${f.line}:${f.column} warning ${f.code}: ${f.message}\n`)
  if (result.ok && !quietWhenOk && !ctx.json) {
    const r = result.requirements
    ctx.io.stdout.write(`${file}: ok${r ? ` (up to ${r.maxVUs} VUs, at most ${Math.ceil(r.totalDurationSeconds)} s)` : ''}\n`)
  }
  return { ok: result.ok, result }
}
