// What k6 loads for a test or run besides its script: the test's files (data files and modules at
// paths relative to the script) or a k6 archive, with a way to read their bytes. Validation lays
// them out for `k6 inspect` and checks the modules the script reaches; a run's snapshot names
// the same blobs, so a run validated is the run that runs.
import { isModulePath, resolveFileReference, type StoredArchive, type StoredFile } from '@stampede/shared/files'
import { checkScript, scriptReferences, type Finding } from '@stampede/shared/script'

/** A project's stored bytes by SHA-256 (its files and archives). */
export type FileReader = (sha256: string) => Promise<Uint8Array>

export interface TestBundle {
  files: readonly StoredFile[]
  archive: StoredArchive | null
  /** Reads the files' and archive's bytes. */
  read: FileReader
}

/** A reader that reads each blob once (the modules are read for the checks and again for k6's directory). */
export function readOnce(read: FileReader): FileReader {
  const seen = new Map<string, Promise<Uint8Array>>()
  return (sha256) => {
    let bytes = seen.get(sha256)
    if (!bytes) {
      bytes = read(sha256)
      seen.set(sha256, bytes)
    }
    return bytes
  }
}

/** The key of a bundle's content for k6's cached answers: the files' paths and hashes, or the archive's hash. */
export const bundleKey = (bundle: Pick<TestBundle, 'files' | 'archive'> | undefined): string =>
  !bundle ? '' : bundle.archive ? `archive:${bundle.archive.sha256}` : bundle.files.map((f) => `${f.path}\u0000${f.sha256}`).sort().join('\u0001')

const decoder = new TextDecoder()

/**
 * The static checks of the modules the script reaches through local imports (each checked like
 * the script for what it imports and opens, resolved from its own folder as k6 resolves it), with
 * each finding naming its module. Modules no import reaches are data to k6 and are not parsed.
 */
export async function checkModules(script: string, bundle: TestBundle, opts: { browserSupported: boolean }): Promise<{ errors: Finding[]; warnings: Finding[] }> {
  const byPath = new Map(bundle.files.map((f) => [f.path, f]))
  const paths = new Set(byPath.keys())
  const errors: Finding[] = []
  const warnings: Finding[] = []
  const checked = new Set<string>()
  const queue: { from: string; source: string }[] = [{ from: 'script.js', source: script }]
  while (queue.length > 0) {
    const { from, source } = queue.shift()!
    const refs = scriptReferences(source, from === 'script.js' ? undefined : from)
    if (!refs.ok) continue
    for (const ref of refs.imports) {
      if (ref.kind !== 'local') continue
      const target = resolveFileReference(from, ref.specifier)
      if (target === null || checked.has(target) || !isModulePath(target)) continue
      const file = byPath.get(target)
      if (!file) continue
      checked.add(target)
      const text = decoder.decode(await bundle.read(file.sha256))
      const result = checkScript(text, { module: true, files: paths, filename: target, browserSupported: opts.browserSupported })
      errors.push(...result.errors.map((f) => ({ ...f, file: target })))
      warnings.push(...result.warnings.map((f) => ({ ...f, file: target })))
      queue.push({ from: target, source: text })
    }
  }
  return { errors, warnings }
}
