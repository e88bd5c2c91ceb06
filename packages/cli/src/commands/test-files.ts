// The files that go with a script (run, tests push): collected from the script's folder
// (collect.ts) and uploaded, only those the project does not have yet; or a k6 archive (--archive)
// uploaded in their place. Prints what it sends on stderr.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { uploadBlob, uploadFiles, type FileRef } from '@stampede/sdk'
import { formatFileSize as formatSize } from '@stampede/shared/files'
import { onePositional, ScriptFileError, UsageError, type CommandContext } from '../context.ts'

/** How many files the Files line names before it says "and N more". */
const LISTED = 10

/**
 * Collects the files `file` (the entry script, as given) reaches, uploads those the project lacks
 * and prints `Files: a (1 KB), b (300 bytes) — 1 uploaded, 1 already stored` (and any warnings)
 * on stderr. Resolves with the references for tests.create/update, runs.start and
 * scripts.validate; [] for a script without files. A file that cannot be collected is a
 * ScriptFileError listing every problem.
 */
export async function collectAndUpload(ctx: CommandContext, file: string): Promise<FileRef[]> {
  // collect.ts loads the script parser (Babel); only the commands that take a script need it.
  const { collectTestFiles, CollectError } = await import('../collect.ts')
  let collected
  try {
    collected = await collectTestFiles(file, { cwd: ctx.io.cwd })
  } catch (err) {
    if (err instanceof CollectError) {
      const n = err.problems.length
      throw new ScriptFileError(`${file}: ${n === 1 ? 'a file the script needs cannot be' : `${n} files the script needs cannot be`} uploaded with it:\n${err.problems.map((p) => `  ${p}`).join('\n')}`)
    }
    throw err
  }
  for (const w of collected.warnings) ctx.io.stderr.write(`stampede: warning: ${w}\n`)
  if (collected.files.length === 0) return []
  const { refs, uploaded } = await uploadFiles(ctx.client, { files: collected.files })
  if (!ctx.json) {
    const names = collected.files.slice(0, LISTED).map((f) => `${f.path} (${formatSize(f.content.byteLength)})`)
    const more = collected.files.length > LISTED ? `, and ${collected.files.length - LISTED} more` : ''
    const stored = collected.files.length - uploaded.length
    ctx.io.stderr.write(`Files: ${names.join(', ')}${more} — ${uploaded.length} uploaded, ${stored} already stored\n`)
  }
  return refs
}

/**
 * --archive <file.tar>: reads a k6 archive (`k6 archive script.js` writes one), uploads it unless
 * the project has it, prints `Archive: …` on stderr and resolves with its sha256.
 */
export async function uploadArchive(ctx: CommandContext, file: string): Promise<string> {
  let content: Buffer
  try {
    content = await readFile(path.resolve(ctx.io.cwd, file))
  } catch (err) {
    throw new UsageError(`--archive ${file}: cannot read the archive (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  // A tar file's first header names its format at byte 257 ("ustar"); k6 archive writes one.
  if (content.byteLength < 512 || content.subarray(257, 262).toString('latin1') !== 'ustar') {
    throw new UsageError(`--archive ${file}: not a tar file; build the archive with k6 archive <script> (it writes archive.tar)`)
  }
  const blob = await uploadBlob(ctx.client, { content })
  if (!ctx.json) ctx.io.stderr.write(`Archive: ${file} (${formatSize(blob.size)}) — ${blob.uploaded ? 'uploaded' : 'already stored'}\n`)
  return blob.sha256
}

/** The script file or `--archive <file.tar>` a command was given (run, tests push): never both. */
export function scriptOrArchive(archive: string | undefined, positionals: string[]): { file: string; archive: boolean } {
  if (archive === undefined) return { file: onePositional(positionals, 'script file'), archive: false }
  if (positionals.length > 0) throw new UsageError('give either a script file or --archive <file.tar> (a k6 archive holds its own script), not both')
  return { file: archive, archive: true }
}
