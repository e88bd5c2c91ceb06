// Static checks of a k6 script on a real parse (Babel, as JavaScript first, then as TypeScript),
// so valid idioms (arrow or async default exports, `export { x as default }`, TypeScript) pass
// and each finding carries a stable code, a position and how to fix it. Each rule is its own
// module in rules/ (the list is rules/index.ts); this module parses the script once, builds the
// context the rules share (context.ts), runs them and sorts what they find. No Node built-ins
// here: this module is meant to run in the browser too.
import { parse, type ParseResult, type ParserPlugin } from '@babel/parser'
import type { File } from '@babel/types'
import { START, type Pos } from './ast.ts'
import { buildContext, type Report } from './context.ts'
import { MODULE_RULES, RULES, SOURCE_RULES } from './rules/index.ts'

export { MAX_SCRIPT_BYTES } from './rules/script-too-large.ts'
export { CONSOLE_VUS_WARNING } from './rules/console-in-default-high-vus.ts'

export const ERROR_CODES = [
  'script-too-large',
  'syntax-error',
  'no-k6-import',
  'no-default-export',
  'node-builtin-import',
  'npm-package-import',
  'playwright-import',
  'unknown-k6-module',
  'browser-unsupported',
  'open-absolute-path',
  'open-escapes-folder',
  'import-outside-folder',
  'missing-file',
  'remote-import',
  'computed-import',
  'remote-source-map',
] as const
export const WARNING_CODES = ['no-k6-import', 'no-options', 'no-thresholds', 'unknown-threshold-metric', 'console-in-default-high-vus'] as const
export type ErrorCode = (typeof ERROR_CODES)[number]
export type WarningCode = (typeof WARNING_CODES)[number]

export interface Finding {
  code: string
  message: string
  /** 1-based. */
  line: number
  /** 1-based. */
  column: number
  /** The test file the finding is in (a module's stored path); absent: the entry script. */
  file?: string
}

export type ScriptLanguage = 'javascript' | 'typescript'

export interface CheckOptions {
  /** Whether the location the script runs from has a browser; `k6/browser` needs one. Default false. */
  browserSupported?: boolean
  /** The script's file name; a `.ts` name is parsed as TypeScript only. */
  filename?: string
  /**
   * The test's files (stored paths, see files.ts), when the script is checked as part of a test:
   * each local import and literal `open()` path must name one of them (resolved from `filename`,
   * default script.js, as k6 resolves them), else a `missing-file` finding at the reference.
   * Without it, references to files are not checked.
   */
  files?: ReadonlySet<string>
  /**
   * The source is one of the test's modules (`filename` its stored path), not its entry: only
   * the rules every module follows apply (what it imports, what it opens); the entry's own
   * (default export, options, thresholds) do not.
   */
  module?: boolean
}

export interface CheckResult {
  errors: Finding[]
  warnings: Finding[]
  /** How the script parsed; null when it did not parse at all. */
  language: ScriptLanguage | null
}

interface ParseFailure {
  message: string
  pos: Pos
}

function tryParse(source: string, typescript: boolean): ParseResult<File> | ParseFailure {
  const plugins: ParserPlugin[] = typescript ? ['typescript'] : []
  try {
    return parse(source, { sourceType: 'module', plugins, allowReturnOutsideFunction: false, errorRecovery: false })
  } catch (err) {
    const e = err as { message?: string; loc?: { line: number; column: number } }
    // Babel appends "(line:column)" to its message; the position is reported separately.
    const raw = e.message ?? String(err)
    const paren = raw.lastIndexOf(' (')
    const message = paren > 0 && raw.endsWith(')') ? raw.slice(0, paren) : raw
    return { message, pos: e.loc ? { line: e.loc.line, column: e.loc.column + 1 } : START }
  }
}

const isFailure = (r: ParseResult<File> | ParseFailure): r is ParseFailure => !('program' in r)
const later = (a: Pos, b: Pos) => a.line > b.line || (a.line === b.line && a.column > b.column)

export function parseScript(source: string, filename?: string): { ast: File; language: ScriptLanguage } | ParseFailure {
  if (filename?.endsWith('.ts')) {
    const ts = tryParse(source, true)
    return isFailure(ts) ? ts : { ast: ts, language: 'typescript' }
  }
  const js = tryParse(source, false)
  if (!isFailure(js)) return { ast: js, language: 'javascript' }
  const ts = tryParse(source, true)
  if (!isFailure(ts)) return { ast: ts, language: 'typescript' }
  // Neither parses: the parse that got further names the more likely mistake.
  return later(ts.pos, js.pos) ? ts : js
}

/** The language a script parses as, or null when it does not parse. */
export function detectLanguage(source: string): ScriptLanguage | null {
  const r = parseScript(source)
  return 'language' in r ? r.language : null
}

const byPosition = (a: Finding, b: Finding) => a.line - b.line || a.column - b.column

export function checkScript(source: string, opts: CheckOptions = {}): CheckResult {
  const errors: Finding[] = []
  const warnings: Finding[] = []
  const report: Report = {
    error: (code, message, pos = START) => errors.push({ code, message, ...pos }),
    warn: (code, message, pos = START) => warnings.push({ code, message, ...pos }),
  }

  for (const rule of opts.module ? [] : SOURCE_RULES) {
    rule.check(source, report)
    if (errors.length > 0) return { errors, warnings, language: null }
  }

  const parsed = parseScript(source, opts.filename)
  if (!('ast' in parsed)) {
    report.error('syntax-error', `${parsed.message}. Fix the syntax at this position; k6 cannot load a script that does not parse.`, parsed.pos)
    return { errors, warnings, language: null }
  }

  const ctx = buildContext(parsed.ast, parsed.language, opts)
  for (const rule of opts.module ? MODULE_RULES : RULES) rule.check(ctx, report)

  errors.sort(byPosition)
  warnings.sort(byPosition)
  return { errors, warnings, language: parsed.language }
}
