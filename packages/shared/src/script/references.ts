// What a script refers to outside itself: the modules it loads (static imports, re-exports,
// literal dynamic import(), require()) and the paths it open()s. The CLI's collector follows
// these to gather a test's files from disk; the web can use them to list what a script needs.
// Reuses the checks' parser and their one pass over the script (context.ts). No Node built-ins
// here: this module runs in the browser too.
import { posOf } from './ast.ts'
import { parseScript } from './check.ts'
import { buildContext } from './context.ts'
import type { ImportKind } from './modules.ts'

export interface ScriptImportReference {
  /** The module as written, e.g. `./lib/helper.js`, `k6/http`, `https://jslib.k6.io/…`. */
  specifier: string
  kind: ImportKind
  /** 1-based position of the module string. */
  line: number
  column: number
}

export interface ScriptOpenReference {
  /** The path when open()'s first argument is a literal; undefined when it is computed. */
  path: string | undefined
  /** 1-based position of open()'s first argument. */
  line: number
  column: number
}

/** A dynamic import() or require() whose module is computed, so it cannot be followed. */
export interface ScriptComputedImport {
  kind: 'import' | 'require'
  /** 1-based position of the module argument. */
  line: number
  column: number
}

export type ScriptReferences =
  | { ok: true; imports: ScriptImportReference[]; opens: ScriptOpenReference[]; computedImports: ScriptComputedImport[] }
  | { ok: false; message: string; line: number; column: number }

const byPosition = (a: { line: number; column: number }, b: { line: number; column: number }) => a.line - b.line || a.column - b.column

/**
 * The imports, open() calls and computed imports of a script, each in source order. A `.ts` filename is parsed as
 * TypeScript only; otherwise JavaScript first, then TypeScript. A script that does not parse
 * gives `ok: false` with the parser's message and position.
 */
export function scriptReferences(source: string, filename?: string): ScriptReferences {
  const parsed = parseScript(source, filename)
  if (!('ast' in parsed)) return { ok: false, message: parsed.message, line: parsed.pos.line, column: parsed.pos.column }
  const ctx = buildContext(parsed.ast, parsed.language, filename === undefined ? {} : { filename })
  const imports = ctx.imports.map((i) => ({ specifier: i.specifier, kind: i.kind, ...posOf(i.node) })).sort(byPosition)
  const opens = ctx.openCalls.map((o) => ({ path: o.path, ...posOf(o.node) })).sort(byPosition)
  const computedImports: ScriptComputedImport[] = ctx.computedImports.map((c) => ({ kind: c.kind, ...posOf(c.node) }))
  return { ok: true, imports, opens, computedImports: computedImports.sort(byPosition) }
}
