// The files a k6 script needs, gathered from disk: `stampede run` and `stampede tests push` upload
// them with the script. Starting at the entry script it follows every local module (static
// imports, re-exports, literal dynamic import() and require()) through each module it reaches,
// and takes every literal open() path as a data file (read as bytes, never parsed). References
// resolve as k6 resolves them: relative to the file they are written in, exactly as written (no
// extension guessing, no index files). Paths are stored relative to the entry script's folder,
// which becomes the run's folder: whatever lies outside it (a `..` too far, a symlink out of it)
// is not there when the test runs, so it is refused here with the place that refers to it and
// the fix. k6 modules, remote modules (https://) and anything else that is not a local file are
// not collected.
import { readFile, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { checkFilePath, checkFileSet, DEFAULT_FILE_CAPS, isModulePath, resolveFileReference, type FileCaps } from '@stampede/shared/files'
import { isAbsolutePath, scriptReferences } from '@stampede/shared/script'

export interface CollectedFile {
  /** Stored form (checkFilePath): relative to the entry script's folder, "/"-separated. */
  path: string
  content: Buffer
}

export interface CollectedTest {
  /** The entry script: its file name and its text. */
  entry: { name: string; source: string }
  /** Every file it reaches (modules and data), sorted by path; the entry script itself is not among them. */
  files: CollectedFile[]
  /** References that cannot be followed (computed paths), as `file:line:column: …` lines. */
  warnings: string[]
}

export interface CollectOptions {
  /** Files are named relative to this folder in messages (default: the process's working directory). */
  cwd?: string
  /** The caps the file set is checked against before anything is uploaded (default DEFAULT_FILE_CAPS). */
  caps?: FileCaps
}

/** The script's files cannot be collected; the message lists every problem, one per line. */
export class CollectError extends Error {
  override name = 'CollectError'
  constructor(readonly problems: string[]) {
    super(problems.join('\n'))
  }
}

const ARCHIVE_HINT = 'or build a k6 archive (k6 archive <script>) and pass it with --archive <file.tar>'

interface Reference {
  kind: 'import' | 'open'
  /** As written in the script. */
  reference: string
  /** Where: `file:line:column`. */
  at: string
}

/**
 * Collects the entry script and the files it reaches. Throws CollectError listing every problem
 * (a reference outside the script's folder, a missing file, a name the platform refuses, the
 * caps), each with where it is made and how to fix it. A module that does not parse is collected
 * as it is, without following its references: validation reports the syntax error.
 */
export async function collectTestFiles(entryPath: string, opts: CollectOptions = {}): Promise<CollectedTest> {
  const cwd = opts.cwd ?? process.cwd()
  const entryFull = path.resolve(cwd, entryPath)
  const shown = (full: string) => {
    const rel = path.relative(cwd, full)
    return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? full : rel
  }
  const rootDir = path.dirname(entryFull)
  const rootShown = `${rootDir === cwd ? '.' : shown(rootDir)}${path.sep}`
  const entryName = path.basename(entryFull)

  let source: string
  try {
    source = await readFile(entryFull, 'utf8')
  } catch (err) {
    throw new CollectError([`${shown(entryFull)}: cannot read the script (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`])
  }
  const rootReal = await realpath(rootDir)

  const problems: string[] = []
  const warnings: string[] = []
  const files = new Map<string, Buffer>()
  /** Stored paths of the modules already parsed (the entry's own name for the entry). */
  const parsed = new Set<string>([entryName])
  /** Modules to parse: stored path (the entry's name for the entry) and text. */
  const queue: { stored: string; source: string }[] = [{ stored: entryName, source }]
  const fullOf = (stored: string) => path.join(rootDir, ...stored.split('/'))

  /** Resolves, checks and reads one reference; the file's bytes and stored path, or null after reporting a problem. */
  const load = async (from: string, ref: Reference): Promise<{ stored: string; content: Buffer } | null> => {
    const what = ref.kind === 'open' ? `open(${JSON.stringify(ref.reference)})` : `import ${JSON.stringify(ref.reference)}`
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref.reference) && !ref.reference.startsWith('file:')) {
      problems.push(`${ref.at}: ${what} is a URL; open() reads files only. Download the file into the script's folder and open it by a relative path.`)
      return null
    }
    if (isAbsolutePath(ref.reference)) {
      problems.push(`${ref.at}: ${what} is an absolute path, which does not exist where the test runs. Move the file under ${rootShown} and refer to it relative to ${path.posix.basename(from)}, e.g. "./data/users.json".`)
      return null
    }
    const stored = resolveFileReference(from, ref.reference)
    if (stored === null) {
      problems.push(`${ref.at}: ${what} reaches outside the script's folder ${rootShown}; only files under it are uploaded with the test. Move the file under ${rootShown}, ${ARCHIVE_HINT}.`)
      return null
    }
    const checked = checkFilePath(stored)
    if (!checked.ok) {
      problems.push(`${ref.at}: ${what}: ${checked.message}`)
      return null
    }
    const full = fullOf(checked.path)
    let real: string
    try {
      real = await realpath(full)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      problems.push(code === 'ENOENT' || code === 'ENOTDIR'
        ? `${ref.at}: ${what} names ${shown(full)}, which does not exist. Fix the path (it is relative to ${path.posix.basename(from)}, as written: no extension is added) or create the file.`
        : `${ref.at}: ${what}: cannot read ${shown(full)} (${code ?? (err as Error).message}).`)
      return null
    }
    const inside = path.relative(rootReal, real)
    if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
      problems.push(`${ref.at}: ${what} names ${shown(full)}, a symlink to ${real} outside the script's folder ${rootShown}; the link is not followed when uploading. Copy the file under ${rootShown} instead of linking it, ${ARCHIVE_HINT}.`)
      return null
    }
    try {
      if ((await stat(real)).isDirectory()) {
        problems.push(`${ref.at}: ${what} names the folder ${shown(full)}; name a file.`)
        return null
      }
      return { stored: checked.path, content: await readFile(real) }
    } catch (err) {
      problems.push(`${ref.at}: ${what}: cannot read ${shown(full)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`)
      return null
    }
  }

  while (queue.length > 0) {
    const mod = queue.shift()!
    const modShown = shown(fullOf(mod.stored))
    const refs = scriptReferences(mod.source, path.posix.basename(mod.stored))
    // A module that does not parse is uploaded as it is: validation names the syntax error at its
    // position, in the same form as every other finding.
    if (!refs.ok) continue
    // Warnings in source order: computed imports and computed open() paths.
    const computed = [
      ...refs.computedImports.map((c) => ({ ...c, text: `${c.kind}() is given a computed module name, so the module it loads cannot be collected; write the name as a literal (e.g. ${c.kind}("./lib/helper.js"))` })),
      ...refs.opens.filter((o) => o.path === undefined).map((o) => ({ ...o, text: 'open() is given a computed path, so the file it reads cannot be collected; write the path as a literal (e.g. open("./data/users.json"))' })),
    ].sort((a, b) => a.line - b.line || a.column - b.column)
    for (const c of computed) warnings.push(`${modShown}:${c.line}:${c.column}: ${c.text}, or build a k6 archive (k6 archive <script>) and pass --archive <file.tar>.`)
    for (const o of refs.opens) {
      if (o.path === undefined) continue
      const got = await load(mod.stored, { kind: 'open', reference: o.path, at: `${modShown}:${o.line}:${o.column}` })
      if (got) files.set(got.stored, got.content)
    }
    for (const i of refs.imports) {
      if (i.kind !== 'local') continue
      const got = await load(mod.stored, { kind: 'import', reference: i.specifier, at: `${modShown}:${i.line}:${i.column}` })
      if (!got) continue
      files.set(got.stored, got.content)
      // Only modules are followed (isModulePath); an imported file of another kind is collected as it is.
      if (parsed.has(got.stored) || !isModulePath(got.stored)) continue
      parsed.add(got.stored)
      queue.push({ stored: got.stored, source: got.content.toString('utf8') })
    }
  }

  const sorted = [...files.entries()].map(([p, content]) => ({ path: p, content })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  if (problems.length === 0) {
    for (const p of checkFileSet(sorted.map((f) => ({ path: f.path, size: f.content.byteLength })), opts.caps ?? DEFAULT_FILE_CAPS)) {
      problems.push(`${p.message}${p.path ? '' : ` (the files of ${shown(entryFull)})`}`)
    }
  }
  if (problems.length > 0) throw new CollectError(problems)
  return { entry: { name: entryName, source }, files: sorted, warnings }
}
