// Writes the API's router type as plain TypeScript for the packed SDK (scripts/pack.ts).
//
// Inside this repository the SDK infers every type from `@stampede/api`'s AppRouter. That type
// cannot travel as it is: its context names Prisma, Fastify and Temporal types, and its outputs
// name the generated Prisma client's enums. So this script asks the TypeScript checker for what a
// client can see — each procedure's kind, input and output, and the error shape — and prints them
// as self-contained declarations over @trpc/server's public router types. A d.ts bundler cannot do
// this (it copies declarations, it does not evaluate types), which is why it is written here.
//
// Named types (Prisma's JsonValue, K6Summary, …) become named declarations of their own, which
// also keeps recursive types finite. Anything a JSON API cannot carry (a function, a symbol) fails
// the build with the procedure's path instead of printing something that lies.
import path from 'node:path'
import ts from 'typescript'

export interface RouterTypes {
  /** The declaration file's text. */
  text: string
  /** Procedure paths, for the build's log and tests. */
  procedures: string[]
}

const PROBE = `import type { AppRouter } from '@stampede/api'
export type Record_ = AppRouter['_def']['record']
export type Root_ = AppRouter['_def']['_config']['$types']
`

/** Generates the router declarations, resolving `@stampede/api` as seen from `fromDir` (the SDK). */
export function generateRouterTypes(fromDir: string): RouterTypes {
  const configPath = ts.findConfigFile(fromDir, ts.sys.fileExists, 'tsconfig.json')
  if (!configPath) throw new Error(`no tsconfig.json above ${fromDir}`)
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')) } })
  if (!config) throw new Error(`cannot read ${configPath}`)
  const probeFile = path.join(fromDir, 'src', '__router_probe__.ts')
  const host = ts.createCompilerHost(config.options)
  const readFile = host.readFile.bind(host)
  const getSourceFile = host.getSourceFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (f) => f === probeFile || fileExists(f)
  host.readFile = (f) => (f === probeFile ? PROBE : readFile(f))
  host.getSourceFile = (f, lang, onError, create) =>
    f === probeFile ? ts.createSourceFile(f, PROBE, lang, true) : getSourceFile(f, lang, onError, create)
  const program = ts.createProgram({ rootNames: [probeFile], options: { ...config.options, noEmit: true }, host })
  const problems = ts.getPreEmitDiagnostics(program, program.getSourceFile(probeFile))
  if (problems.length > 0) throw new Error(ts.formatDiagnostics(problems, host))
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(probeFile)!
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!)
  const typeOf = (name: string): ts.Type => checker.getDeclaredTypeOfSymbol(exported.find((s) => s.name === name)!)
  return new Printer(checker, program).print(typeOf('Record_'), typeOf('Root_'))
}

class Printer {
  /** Hoisted named declarations: the type → its name, and the names in order with their bodies. */
  private readonly names = new Map<ts.Type, string>()
  private readonly declarations: string[] = []
  private readonly taken = new Set<string>(['AppRouter', 'ErrorShape', 'TRPCBuiltRouter', 'TRPCQueryProcedure', 'TRPCMutationProcedure', 'TRPCSubscriptionProcedure'])
  private where = ''

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly program: ts.Program,
  ) {}

  print(record: ts.Type, root: ts.Type): RouterTypes {
    const procedures: string[] = []
    const body = this.record(record, [], procedures, '  ')
    this.where = 'the error shape'
    const errorShape = this.type(this.prop(root, 'errorShape'), '')
    const text = [
      '// The API\'s router as a client sees it: every procedure\'s input and output. Generated from the',
      '// API\'s AppRouter when the SDK is packed (packages/sdk/scripts/router-types.ts); do not edit.',
      "import type { TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure, TRPCSubscriptionProcedure } from '@trpc/server'",
      '',
      ...this.declarations,
      `export type ErrorShape = ${errorShape}`,
      '',
      'export type AppRouter = TRPCBuiltRouter<',
      '  { ctx: object; meta: object; errorShape: ErrorShape; transformer: false },',
      `  ${body}`,
      '>',
      '',
    ].join('\n')
    return { text, procedures }
  }

  private prop(type: ts.Type, name: string): ts.Type {
    const symbol = type.getProperty(name)
    if (!symbol) throw new Error(`router type: ${this.where || 'the router'} has no ${name}`)
    return this.checker.getTypeOfSymbol(symbol)
  }

  /** A router record: procedures and nested records. */
  private record(type: ts.Type, at: string[], procedures: string[], indent: string): string {
    const lines: string[] = []
    for (const member of this.checker.getPropertiesOfType(type)) {
      const value = this.checker.getTypeOfSymbol(member)
      const here = [...at, member.name]
      const def = value.getProperty('_def')
      if (def && this.checker.getTypeOfSymbol(def).getProperty('$types')) {
        this.where = here.join('.')
        const defType = this.checker.getTypeOfSymbol(def)
        const kind = this.checker.typeToString(this.prop(defType, 'type'))
        const wrapper = { '"query"': 'TRPCQueryProcedure', '"mutation"': 'TRPCMutationProcedure', '"subscription"': 'TRPCSubscriptionProcedure' }[kind]
        if (!wrapper) throw new Error(`router type: ${this.where} is a ${kind} procedure`)
        const types = this.prop(defType, '$types')
        const input = this.type(this.prop(types, 'input'), indent + '  ')
        const output = this.type(this.prop(types, 'output'), indent + '  ')
        lines.push(`${indent}${key(member.name)}: ${wrapper}<{ input: ${input}; output: ${output}; meta: object }>`)
        procedures.push(this.where)
      } else {
        lines.push(`${indent}${key(member.name)}: ${this.record(value, here, procedures, indent + '  ')}`)
      }
    }
    return `{\n${lines.join('\n')}\n${indent.slice(2)}}`
  }

  /** A named type declared in the project or a dependency (not TypeScript's own lib). */
  private nameOf(type: ts.Type): string | undefined {
    const alias = type.aliasSymbol
    if (alias && !type.aliasTypeArguments?.length && !this.fromLib(alias)) return alias.name
    const symbol = type.getSymbol()
    if (symbol && type.flags & ts.TypeFlags.Object && (type as ts.ObjectType).objectFlags & ts.ObjectFlags.Interface && !this.fromLib(symbol)) return symbol.name
    return undefined
  }

  private fromLib(symbol: ts.Symbol): boolean {
    const declarations = symbol.getDeclarations() ?? []
    return declarations.length > 0 && declarations.every((d) => this.program.isSourceFileDefaultLibrary(d.getSourceFile()))
  }

  private type(type: ts.Type, indent: string): string {
    const name = this.nameOf(type)
    if (name === undefined) return this.structure(type, indent)
    const known = this.names.get(type)
    if (known) return known
    let unique = name
    for (let n = 2; this.taken.has(unique); n++) unique = `${name}${n}`
    this.taken.add(unique)
    this.names.set(type, unique)
    this.declarations.push(`export type ${unique} = ${this.structure(type, '')}`, '')
    return unique
  }

  /** A type inside `&` or before a tuple's `?`: an unnamed union needs parentheses there. */
  private member(type: ts.Type, indent: string): string {
    const printed = this.type(type, indent)
    return type.isUnion() && this.nameOf(type) === undefined ? `(${printed})` : printed
  }

  private structure(type: ts.Type, indent: string): string {
    const f = type.flags
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return 'unknown'
    if (f & (ts.TypeFlags.String | ts.TypeFlags.Number | ts.TypeFlags.Boolean | ts.TypeFlags.BigInt | ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void | ts.TypeFlags.Never | ts.TypeFlags.BooleanLiteral | ts.TypeFlags.TemplateLiteral)) {
      return this.checker.typeToString(type)
    }
    if (type.isStringLiteral() || type.isNumberLiteral()) return JSON.stringify(type.value)
    if (f & ts.TypeFlags.ESSymbolLike) throw new Error(`router type: ${this.where} carries a symbol, which JSON cannot`)
    if (type.isUnion()) {
      const parts = type.types.map((t) => this.type(t, indent))
      // TypeScript keeps `boolean` as `false | true`; print it as written.
      const bools = parts.filter((p) => p === 'false' || p === 'true')
      const rest = bools.length === 2 ? [...parts.filter((p) => p !== 'false' && p !== 'true'), 'boolean'] : parts
      return rest.join(' | ')
    }
    if (type.isIntersection()) return type.types.map((t) => this.member(t, indent)).join(' & ')
    if (this.checker.isTupleType(type)) {
      const target = (type as ts.TupleTypeReference).target
      const items = this.checker.getTypeArguments(type as ts.TypeReference).map((t, i) => {
        const flag = target.elementFlags[i]!
        if (flag & ts.ElementFlags.Rest) return `...Array<${this.type(t, indent)}>`
        return flag & ts.ElementFlags.Optional ? `${this.member(t, indent)}?` : this.type(t, indent)
      })
      return `${target.readonly ? 'readonly ' : ''}[${items.join(', ')}]`
    }
    if (this.checker.isArrayType(type)) {
      const [element] = this.checker.getTypeArguments(type as ts.TypeReference)
      const readonly = type.getSymbol()?.name === 'ReadonlyArray'
      return `${readonly ? 'ReadonlyArray' : 'Array'}<${this.type(element!, indent)}>`
    }
    if (f & ts.TypeFlags.Object && this.checker.isArrayLikeType(type)) {
      // An interface over an array (Prisma's `JsonArray extends Array<JsonValue>`): its elements.
      const element = this.checker.getIndexInfoOfType(type, ts.IndexKind.Number)?.type
      const bases = type.isClassOrInterface() ? this.checker.getBaseTypes(type) : []
      const mutable = bases.some((b) => b.getSymbol()?.name === 'Array')
      if (element) return `${mutable ? 'Array' : 'ReadonlyArray'}<${this.type(element, indent)}>`
    }
    if (f & ts.TypeFlags.Object) {
      const symbol = type.getSymbol()
      // Date and friends: TypeScript's own types are available everywhere.
      if (symbol && this.fromLib(symbol) && symbol.name !== '__type' && symbol.name !== '__object') return this.checker.typeToString(type)
      if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) {
        throw new Error(`router type: ${this.where} carries a function, which JSON cannot`)
      }
      const inner = indent + '  '
      const lines: string[] = []
      for (const info of this.checker.getIndexInfosOfType(type)) {
        lines.push(`${inner}[key: ${this.checker.typeToString(info.keyType)}]: ${this.type(info.type, inner)}`)
      }
      for (const member of this.checker.getPropertiesOfType(type)) {
        const optional = member.flags & ts.SymbolFlags.Optional ? '?' : ''
        lines.push(`${inner}${key(member.name)}${optional}: ${this.type(this.checker.getTypeOfSymbol(member), inner)}`)
      }
      return lines.length === 0 ? '{}' : `{\n${lines.join('\n')}\n${indent}}`
    }
    throw new Error(`router type: ${this.where} has a type this generator cannot print: ${this.checker.typeToString(type)}`)
  }
}

function key(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)
}
