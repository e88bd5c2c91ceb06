// Static checks of a k6 script on a real parse (Babel, as JavaScript first, then as TypeScript),
// so valid idioms (arrow or async default exports, `export { x as default }`, TypeScript) pass
// and each finding carries a stable code, a position and how to fix it. No Node built-ins here:
// this module is meant to run in the browser too.
import { parse, type ParseResult, type ParserPlugin } from '@babel/parser'
import { VISITOR_KEYS, type File, type Node, type ObjectExpression } from '@babel/types'
import { classifyImport } from './modules.ts'
import { closest, K6_BUILTIN_METRICS } from './metrics.ts'

export const MAX_SCRIPT_BYTES = 500 * 1024
/** Above this many VUs, logging in every iteration floods the console and slows k6 down. */
export const CONSOLE_VUS_WARNING = 50

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
}

export type ScriptLanguage = 'javascript' | 'typescript'

export interface CheckOptions {
  /** Whether the location the script runs from has a browser; `k6/browser` needs one. Default false. */
  browserSupported?: boolean
  /** The script's file name; a `.ts` name is parsed as TypeScript only. */
  filename?: string
}

export interface CheckResult {
  errors: Finding[]
  warnings: Finding[]
  /** How the script parsed; null when it did not parse at all. */
  language: ScriptLanguage | null
}

interface Pos {
  line: number
  column: number
}

const START: Pos = { line: 1, column: 1 }
const posOf = (node: Node): Pos => (node.loc ? { line: node.loc.start.line, column: node.loc.start.column + 1 } : START)

function byteLength(s: string): number {
  return new TextEncoder().encode(s).length
}

/** Visits every node below `root` (depth first, in source order). */
function walk(root: Node, visit: (node: Node) => void): void {
  const stack: Node[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()!
    visit(node)
    const keys = VISITOR_KEYS[node.type] ?? []
    const children: Node[] = []
    for (const key of keys) {
      const value = (node as unknown as Record<string, unknown>)[key]
      if (Array.isArray(value)) {
        for (const v of value) if (isNode(v)) children.push(v)
      } else if (isNode(value)) children.push(value)
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!)
  }
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string'

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

function stringValue(node: Node | null | undefined): string | undefined {
  if (!node) return undefined
  if (node.type === 'StringLiteral') return node.value
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? undefined
  return undefined
}

function propertyName(node: Node): string | undefined {
  if (node.type !== 'ObjectProperty' && node.type !== 'ObjectMethod') return undefined
  if (node.computed) return stringValue(node.key)
  if (node.key.type === 'Identifier') return node.key.name
  if (node.key.type === 'StringLiteral') return node.key.value
  if (node.key.type === 'NumericLiteral') return String(node.key.value)
  return undefined
}

function property(obj: ObjectExpression, name: string): Node | undefined {
  for (const p of obj.properties) {
    if (propertyName(p) === name && p.type === 'ObjectProperty') return p.value
  }
  return undefined
}

/** Unwraps `x as T`, `x satisfies T`, `<T>x` and `(x)`. */
function unwrap(node: Node | null | undefined): Node | undefined {
  let n = node ?? undefined
  while (n && (n.type === 'TSAsExpression' || n.type === 'TSSatisfiesExpression' || n.type === 'TSTypeAssertion' || n.type === 'ParenthesizedExpression' || n.type === 'TSNonNullExpression')) {
    n = n.expression
  }
  return n
}

const asObject = (node: Node | null | undefined): ObjectExpression | undefined => {
  const n = unwrap(node)
  return n?.type === 'ObjectExpression' ? n : undefined
}

function numberValue(node: Node | undefined): number | undefined {
  const n = unwrap(node)
  return n?.type === 'NumericLiteral' ? n.value : undefined
}

/** The most VUs the literal options can start; undefined when they are not literal. */
function staticMaxVus(options: ObjectExpression): number {
  const fromStages = (stages: Node | undefined) => {
    const n = unwrap(stages)
    if (n?.type !== 'ArrayExpression') return 0
    return Math.max(0, ...n.elements.map((e) => (e && e.type === 'ObjectExpression' ? (numberValue(property(e, 'target')) ?? 0) : 0)))
  }
  let max = Math.max(numberValue(property(options, 'vus')) ?? 1, fromStages(property(options, 'stages')))
  const scenarios = asObject(property(options, 'scenarios'))
  if (scenarios) {
    let sum = 0
    for (const p of scenarios.properties) {
      const s = p.type === 'ObjectProperty' ? asObject(p.value) : undefined
      if (!s) continue
      sum += Math.max(
        numberValue(property(s, 'vus')) ?? 0,
        numberValue(property(s, 'maxVUs')) ?? 0,
        numberValue(property(s, 'preAllocatedVUs')) ?? 0,
        numberValue(property(s, 'startVUs')) ?? 0,
        fromStages(property(s, 'stages')),
      )
    }
    max = Math.max(max, sum)
  }
  return max
}

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

const isAbsolutePath = (p: string) => p.startsWith('/') || p.startsWith('\\') || p.startsWith('file:') || /^[A-Za-z]:[\\/]/.test(p)

const METRIC_CLASSES = new Set(['Counter', 'Gauge', 'Rate', 'Trend'])

export function checkScript(source: string, opts: CheckOptions = {}): CheckResult {
  const errors: Finding[] = []
  const warnings: Finding[] = []
  const error = (code: ErrorCode, message: string, pos: Pos = START) => errors.push({ code, message, ...pos })
  const warn = (code: WarningCode, message: string, pos: Pos = START) => warnings.push({ code, message, ...pos })

  const bytes = byteLength(source)
  if (bytes > MAX_SCRIPT_BYTES) {
    error('script-too-large', `The script is ${Math.ceil(bytes / 1024)} KB; the limit is ${MAX_SCRIPT_BYTES / 1024} KB. Move test data into a file loaded with open() and SharedArray, or split the script.`)
    return { errors, warnings, language: null }
  }

  const parsed = parseScript(source, opts.filename)
  if (!('ast' in parsed)) {
    error('syntax-error', `${parsed.message}. Fix the syntax at this position; k6 cannot load a script that does not parse.`, parsed.pos)
    return { errors, warnings, language: null }
  }
  const { ast, language } = parsed
  const program = ast.program

  // --- imports -------------------------------------------------------------------------------
  let importCount = 0
  let k6ish = false
  // `node` is the module string itself, so a finding points at the name to change.
  const checkSpecifier = (specifier: string, node: Node) => {
    importCount++
    const pos = posOf(node)
    switch (classifyImport(specifier)) {
      case 'k6':
        k6ish = true
        return
      case 'remote':
      case 'local':
        k6ish = true
        return
      case 'k6-browser':
        k6ish = true
        if (!opts.browserSupported) {
          error('browser-unsupported', `"${specifier}" needs a browser, and this location has no browser support. Use k6/http for protocol-level tests, or run from a location with browser support.`, pos)
        }
        return
      case 'k6-unknown':
        k6ish = true
        error('unknown-k6-module', `"${specifier}" is not a module of k6 v2 (extensions need a custom k6 binary). Use one of k6's modules, e.g. k6/http, k6/metrics, k6/data.`, pos)
        return
      case 'node-builtin':
        error('node-builtin-import', `"${specifier}" is a Node.js built-in; k6 does not run on Node.js. Use k6's own modules instead (k6/http for HTTP, k6/crypto or k6/encoding for hashing and base64, open() in the init code to read files).`, pos)
        return
      case 'playwright':
        error('playwright-import', `"${specifier}" is Playwright; k6 cannot run Playwright scripts. Rewrite the browser steps with k6/browser (its API follows Playwright's), or test the HTTP API with k6/http.`, pos)
        return
      case 'npm':
        error('npm-package-import', `"${specifier}" is an npm package; k6 does not resolve npm packages. Import a bundled copy by URL (e.g. from https://jslib.k6.io) or bundle the script before pasting it.`, pos)
    }
  }

  let hasDefault = false
  const exported = new Map<string, Node>() // exported name -> declaration/init node
  const topLevel = new Map<string, Node>() // local top-level bindings -> value node

  for (const stmt of program.body) {
    if (stmt.type === 'FunctionDeclaration' && stmt.id) topLevel.set(stmt.id.name, stmt)
    if (stmt.type === 'VariableDeclaration') {
      for (const d of stmt.declarations) if (d.id.type === 'Identifier' && d.init) topLevel.set(d.id.name, d.init)
    }
    if (stmt.type === 'ExportNamedDeclaration' && stmt.declaration) {
      const decl = stmt.declaration
      if (decl.type === 'FunctionDeclaration' && decl.id) {
        topLevel.set(decl.id.name, decl)
        exported.set(decl.id.name, decl)
      }
      if (decl.type === 'VariableDeclaration') {
        for (const d of decl.declarations) {
          if (d.id.type === 'Identifier' && d.init) {
            topLevel.set(d.id.name, d.init)
            exported.set(d.id.name, d.init)
          }
        }
      }
    }
  }

  let defaultNode: Node | undefined
  for (const stmt of program.body) {
    if (stmt.type === 'ImportDeclaration' && stmt.importKind !== 'type') checkSpecifier(stmt.source.value, stmt.source)
    if (stmt.type === 'ExportAllDeclaration') checkSpecifier(stmt.source.value, stmt.source)
    if (stmt.type === 'ExportDefaultDeclaration') {
      hasDefault = true
      defaultNode = stmt.declaration
    }
    if (stmt.type === 'ExportNamedDeclaration') {
      if (stmt.source) checkSpecifier(stmt.source.value, stmt.source)
      for (const s of stmt.specifiers) {
        const name = s.exported.type === 'Identifier' ? s.exported.name : s.exported.value
        const local = s.type === 'ExportSpecifier' ? s.local.name : undefined
        if (name === 'default') {
          hasDefault = true
          if (local && !stmt.source) defaultNode = topLevel.get(local)
        } else if (local && !stmt.source) {
          const v = topLevel.get(local)
          if (v) exported.set(name, v)
        }
      }
    }
  }

  // Dynamic imports, require() calls, open() paths and custom metric names anywhere in the script.
  const customMetrics = new Set<string>()
  let dynamicMetricName = false
  walk(program, (node) => {
    if (node.type === 'ImportExpression') {
      const s = stringValue(node.source)
      if (s !== undefined) checkSpecifier(s, node.source)
    }
    if (node.type === 'CallExpression') {
      const callee = node.callee
      const first = node.arguments[0]
      if (callee.type === 'Import' && first) {
        const s = stringValue(first)
        if (s !== undefined) checkSpecifier(s, first)
      }
      if (callee.type === 'Identifier' && callee.name === 'require' && first) {
        const s = stringValue(first)
        if (s !== undefined) checkSpecifier(s, first)
      }
      if (callee.type === 'Identifier' && callee.name === 'open' && first) {
        const p = stringValue(first)
        if (p !== undefined && isAbsolutePath(p)) {
          error('open-absolute-path', `open("${p}") reads an absolute path; the runner only has the script's own folder. Use a path relative to the script, e.g. open("./data.json").`, posOf(first))
        } else if (p !== undefined && escapesFolder(p)) {
          error('open-escapes-folder', `open("${p}") reaches outside the script's folder, which the runner does not provide. Keep data files next to the script, e.g. open("./data.json").`, posOf(first))
        }
      }
    }
    if (node.type === 'NewExpression') {
      const callee = node.callee
      const cls = callee.type === 'Identifier' ? callee.name : callee.type === 'MemberExpression' && callee.property.type === 'Identifier' ? callee.property.name : undefined
      if (cls && METRIC_CLASSES.has(cls)) {
        const name = stringValue(node.arguments[0])
        if (name !== undefined) customMetrics.add(name)
        else dynamicMetricName = true
      }
    }
  })

  if (!k6ish) {
    if (importCount === 0) {
      warn('no-k6-import', 'The script imports nothing from k6, so it cannot send requests or check results. Start with e.g. import http from "k6/http".')
    } else {
      error('no-k6-import', 'The script imports no k6 module; it does not look like a k6 script. Import what it needs from k6, e.g. import http from "k6/http".')
    }
  }

  // --- default export ---------------------------------------------------------------------------
  const optionsNode = exported.get('options')
  const options = asObject(optionsNode)
  if (!hasDefault) {
    // With scenarios that all name their own `exec` function, k6 needs no default function.
    const scenarios = options ? asObject(property(options, 'scenarios')) : undefined
    const allExec = scenarios !== undefined && scenarios.properties.length > 0 && scenarios.properties.every((p) => p.type === 'ObjectProperty' && asObject(p.value) !== undefined && property(asObject(p.value)!, 'exec') !== undefined)
    if (!allExec) {
      const last = program.body.at(-1)
      error('no-default-export', 'The script has no default export; k6 runs the default function in every iteration. Add e.g. export default function () { … } (an async or arrow function works too).', last ? posOf(last) : START)
    }
  }

  // --- options and thresholds ---------------------------------------------------------------
  if (!optionsNode) {
    warn('no-options', 'The script exports no options, so k6 runs one iteration with one VU and checks no thresholds. Add export const options = { vus, duration, thresholds }.')
  } else if (options) {
    const thresholdsNode = property(options, 'thresholds')
    const thresholds = asObject(thresholdsNode)
    if (!thresholdsNode) {
      warn('no-thresholds', 'The options have no thresholds, so the run passes whatever the response times and errors are. Add e.g. thresholds: { http_req_failed: ["rate<0.01"], http_req_duration: ["p(95)<500"] }.', posOf(options))
    } else if (thresholds && !dynamicMetricName) {
      const known = new Set([...K6_BUILTIN_METRICS, ...customMetrics])
      for (const p of thresholds.properties) {
        const key = propertyName(p)
        if (key === undefined) continue
        const brace = key.indexOf('{')
        const metric = (brace >= 0 ? key.slice(0, brace) : key).trim()
        if (known.has(metric)) continue
        const guess = closest(metric, known)
        warn(
          'unknown-threshold-metric',
          `The threshold "${key}" is on "${metric}", which is neither a k6 metric nor defined by this script; k6 would never evaluate it and the run would pass anyway. ${guess ? `Did you mean "${guess}"?` : 'Define it with new Counter/Gauge/Rate/Trend("' + metric + '") or fix the name.'}`,
          posOf(p),
        )
      }
    }
  }

  // --- console logging in the default function at high VU counts ---------------------------------
  const defaultFn = unwrap(defaultNode?.type === 'Identifier' ? topLevel.get(defaultNode.name) : defaultNode)
  if (options && defaultFn && (defaultFn.type === 'FunctionDeclaration' || defaultFn.type === 'FunctionExpression' || defaultFn.type === 'ArrowFunctionExpression')) {
    const vus = staticMaxVus(options)
    if (vus > CONSOLE_VUS_WARNING) {
      walk(defaultFn.body, (node) => {
        if (node.type === 'CallExpression' && node.callee.type === 'MemberExpression' && node.callee.object.type === 'Identifier' && node.callee.object.name === 'console') {
          warn('console-in-default-high-vus', `console output in the default function runs in every iteration of up to ${vus} VUs; it floods the console and slows k6. Log only a sample (e.g. when __ITER === 0), or count events with a Counter metric.`, posOf(node))
        }
      })
    }
  }

  errors.sort((a, b) => a.line - b.line || a.column - b.column)
  warnings.sort((a, b) => a.line - b.line || a.column - b.column)
  return { errors, warnings, language }
}


