// What the script's rules look at: the parsed script and one pass over it that collects what
// several rules need (imports, exported bindings, the default export, custom metric names,
// open() calls), and how a rule reports a finding.
import type { File, Node, ObjectExpression, Program } from '@babel/types'
import { asObject, stringValue, walk, type Pos } from './ast.ts'
import type { CheckOptions, ErrorCode, ScriptLanguage, WarningCode } from './check.ts'
import { classifyImport, type ImportKind } from './modules.ts'

/** One module the script loads: a static import or re-export, a dynamic import() or a require(). */
export interface ScriptImport {
  specifier: string
  kind: ImportKind
  /** The module string itself, so a finding points at the name to change. */
  node: Node
}

/** One call of open() with at least one argument. */
export interface OpenCall {
  /** The path when the first argument is a literal. */
  path: string | undefined
  /** The first argument. */
  node: Node
}

export interface ScriptContext {
  ast: File
  program: Program
  language: ScriptLanguage
  /** How checkScript was called. */
  check: CheckOptions
  /** Every import, in source order: static ones first, then those anywhere in the code. */
  imports: ScriptImport[]
  openCalls: OpenCall[]
  /** import() and require() calls whose module is computed (the argument node), which no check can follow. */
  computedImports: { kind: 'import' | 'require'; node: Node }[]
  /** Local top-level bindings -> value node. */
  topLevel: Map<string, Node>
  /** Exported name -> declaration/init node. */
  exported: Map<string, Node>
  hasDefault: boolean
  /** What `export default` names: a declaration, an expression, or the local binding's value. */
  defaultNode: Node | undefined
  /** The exported `options`, whatever its value. */
  optionsNode: Node | undefined
  /** The exported `options` when it is an object literal. */
  options: ObjectExpression | undefined
  /** Names of the custom metrics (new Counter/Gauge/Rate/Trend) given as literals. */
  customMetrics: Set<string>
  /** Whether some custom metric's name is not a literal. */
  dynamicMetricName: boolean
}

export interface Report {
  error(code: ErrorCode, message: string, pos?: Pos): void
  warn(code: WarningCode, message: string, pos?: Pos): void
}

/** One static rule over a parsed script. Rules run in the order of RULES (rules/index.ts). */
export interface Rule {
  id: string
  check(ctx: ScriptContext, report: Report): void
}

/** A rule over the script's text, applied before it is parsed; an error from one stops the check. */
export interface SourceRule {
  id: string
  check(source: string, report: Report): void
}

const METRIC_CLASSES = new Set(['Counter', 'Gauge', 'Rate', 'Trend'])

export function buildContext(ast: File, language: ScriptLanguage, check: CheckOptions): ScriptContext {
  const program = ast.program
  const imports: ScriptImport[] = []
  const addImport = (specifier: string, node: Node) => imports.push({ specifier, kind: classifyImport(specifier), node })

  let hasDefault = false
  const exported = new Map<string, Node>()
  const topLevel = new Map<string, Node>()

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
    if (stmt.type === 'ImportDeclaration' && stmt.importKind !== 'type') addImport(stmt.source.value, stmt.source)
    if (stmt.type === 'ExportAllDeclaration') addImport(stmt.source.value, stmt.source)
    if (stmt.type === 'ExportDefaultDeclaration') {
      hasDefault = true
      defaultNode = stmt.declaration
    }
    if (stmt.type === 'ExportNamedDeclaration') {
      if (stmt.source) addImport(stmt.source.value, stmt.source)
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

  // Dynamic imports, require() calls, open() calls and custom metric names anywhere in the script.
  const openCalls: OpenCall[] = []
  const customMetrics = new Set<string>()
  let dynamicMetricName = false
  const computedImports: ScriptContext['computedImports'] = []
  const loads = (kind: 'import' | 'require', node: Node) => {
    const s = stringValue(node)
    if (s !== undefined) addImport(s, node)
    else computedImports.push({ kind, node })
  }
  // `require` used any way but called by name (aliased, passed around, `globalThis.require`) loads
  // a module no check can see: counted as a computed import. The walk visits a node before its
  // children, so a call's callee and a property's name are known before they are visited.
  const calledOrNamed = new Set<Node>()
  walk(program, (node) => {
    if (node.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === 'require') calledOrNamed.add(node.callee)
    if ((node.type === 'ObjectProperty' || node.type === 'ObjectMethod' || node.type === 'ClassMethod' || node.type === 'ClassProperty') && !node.computed) calledOrNamed.add(node.key)
    if (node.type === 'MemberExpression' && !node.computed && node.property.type === 'Identifier' && node.property.name !== 'require') calledOrNamed.add(node.property)
    if (node.type === 'Identifier' && node.name === 'require' && !calledOrNamed.has(node)) computedImports.push({ kind: 'require', node })
    if (node.type === 'ImportExpression') loads('import', node.source)
    if (node.type === 'CallExpression') {
      const callee = node.callee
      const first = node.arguments[0]
      if (callee.type === 'Import' && first) loads('import', first)
      if (callee.type === 'Identifier' && callee.name === 'require' && first) loads('require', first)
      if (callee.type === 'Identifier' && callee.name === 'open' && first) openCalls.push({ path: stringValue(first), node: first })
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

  const optionsNode = exported.get('options')
  return {
    ast,
    program,
    language,
    check,
    imports,
    openCalls,
    computedImports,
    topLevel,
    exported,
    hasDefault,
    defaultNode,
    optionsNode,
    options: asObject(optionsNode),
    customMetrics,
    dynamicMetricName,
  }
}
