// References from a script to the test's files (local imports and literal open() paths), shared
// by the imports and open-paths rules. Checked only when checkScript is given the test's files.
import type { Node } from '@babel/types'
import { resolveFileReference } from '../files.ts'
import { posOf } from './ast.ts'
import type { Report, ScriptContext } from './context.ts'

export const isAbsolutePath = (p: string) => p.startsWith('/') || p.startsWith('\\') || p.startsWith('file:') || /^[A-Za-z]:[\\/]/.test(p)

/** Reports a reference that names none of the test's files, resolved from the checked file as k6 resolves it. */
export function checkFileReference(ctx: ScriptContext, report: Report, kind: 'import' | 'open', reference: string, node: Node): void {
  const files = ctx.check.files
  if (!files) return
  const self = ctx.check.filename ?? 'script.js'
  const shown = kind === 'open' ? `open("${reference}")` : `"${reference}"`
  if (kind === 'import' && isAbsolutePath(reference)) {
    report.error('import-outside-folder', `${shown} imports an absolute path; the runner only has the test's own files. Import it relative to this file, e.g. "./lib/helper.js".`, posOf(node))
    return
  }
  const target = resolveFileReference(self, reference)
  if (target === null) {
    if (kind === 'import') report.error('import-outside-folder', `${shown} reaches outside the test's folder, which the runner does not provide. Add the module to the test's files and import it from there.`, posOf(node))
    return
  }
  if (files.has(target)) return
  report.error('missing-file', `${shown} ${kind === 'open' ? 'reads' : 'imports'} ${target}, which the test does not have. Add ${target} to the test's files (in the web, Files → Upload; the CLI collects it from the script's folder).`, posOf(node))
}
