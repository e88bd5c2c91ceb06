// Literal open() paths must stay inside the script's folder: no absolute paths, no climbing out
// with "..", and, given the test's files, naming one of them.
import { posOf } from '../ast.ts'
import type { Rule } from '../context.ts'
import { checkFileReference, isAbsolutePath } from '../file-reference.ts'

/** Folder depth check for `open()` paths: does the path climb above the script's folder? */
function escapesFolder(path: string): boolean {
  let depth = 0
  for (const part of path.split(/[\\/]/)) {
    if (part === '..') depth--
    else if (part !== '.' && part !== '') depth++
    if (depth < 0) return true
  }
  return false
}

export const openPathsRule: Rule = {
  id: 'open-paths',
  check(ctx, report) {
    for (const { path: p, node } of ctx.openCalls) {
      if (p === undefined) continue
      if (isAbsolutePath(p)) {
        report.error('open-absolute-path', `open("${p}") reads an absolute path; the runner only has the script's own folder. Use a path relative to the script, e.g. open("./data.json").`, posOf(node))
      } else if (escapesFolder(p)) {
        report.error('open-escapes-folder', `open("${p}") reaches outside the script's folder, which the runner does not provide. Keep data files next to the script, e.g. open("./data.json").`, posOf(node))
      } else {
        checkFileReference(ctx, report, 'open', p, node)
      }
    }
  },
}
