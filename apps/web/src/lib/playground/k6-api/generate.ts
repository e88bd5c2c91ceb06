// Regenerates api.generated.ts from @types/k6: the exports of each k6 module the platform
// accepts, with their signatures and the first line of their docs, so the playground offers k6
// hints without shipping the TypeScript compiler (or 300 KB of .d.ts files) to the browser.
// Run: npx tsx apps/web/src/lib/playground/k6-api/generate.ts   (api.test.ts checks it is current)
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { K6_MODULES } from '@stampede/shared/script'
import type { K6ApiData, K6Member, K6MemberKind, K6Module } from './types.ts'

const typesDir = path.dirname(createRequire(import.meta.url).resolve('@types/k6/package.json'))

/** Browser modules are refused unless a location has a browser, so they are not offered. */
const SKIPPED = new Set(['k6/browser', 'k6/experimental/browser'])
const MAX_DOC = 220
/** Members listed per type: enough for every k6 type, a bound on a pathological one. */
const MAX_MEMBERS = 80
/** How far member types are followed: `res` → `res.timings` → `res.timings.duration`. */
const MAX_DEPTH = 2
/** k6/html's DOM element classes are only ever returned by Selection; they would triple the digest. */
const isHtmlElementClass = (specifier: string, name: string) => specifier === 'k6/html' && name.endsWith('Element')

const NOT_OBJECTS =
  ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.BooleanLike | ts.TypeFlags.ESSymbolLike |
  ts.TypeFlags.EnumLike | ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.Never | ts.TypeFlags.Void

/** TypeScript's spelling of optional parts, which says nothing `?` does not. */
const plain = (text: string) => text.replaceAll(' | undefined', '')

const fileOf = (specifier: string) => path.join(typesDir, specifier === 'k6' ? '' : specifier.slice('k6/'.length), 'index.d.ts')

/** The first paragraph of a doc comment, without links or tags, cut to MAX_DOC characters. */
function summary(text: string): string {
  const first = (text.split(/\n\s*\n/)[0] ?? '')
    .replace(/@\w+[\s\S]*$/, '') // tags such as @privateRemarks are for the typings' authors
    .replace(/https?:\/\/\S+/g, '')
    .replace(/\s+/g, ' ')
    .trim()
  return first.length > MAX_DOC ? `${first.slice(0, MAX_DOC - 1).trimEnd()}…` : first
}

/** A symbol's doc summary, and its page in k6's docs if the comment links one. */
function docOf(symbol: ts.Symbol, checker: ts.TypeChecker): { doc: string; url?: string } {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker))
  const url = /https:\/\/grafana\.com\/docs\/k6\/\S+/.exec(text)?.[0]
  return url ? { doc: summary(text), url } : { doc: summary(text) }
}

function generate(): K6ApiData {
  const specifiers = K6_MODULES.filter((m) => !SKIPPED.has(m) && ts.sys.fileExists(fileOf(m)))
  const program = ts.createProgram(
    [...specifiers.map(fileOf), path.join(typesDir, 'options', 'index.d.ts'), path.join(typesDir, 'global.d.ts')],
    { noEmit: true, strict: true, lib: ['lib.es2022.d.ts'], target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, types: [], typeRoots: [path.dirname(typesDir)], paths: { 'k6': [typesDir], 'k6/*': [`${typesDir}/*`] } },
  )
  const checker = program.getTypeChecker()
  const flags = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType
  const types: Record<string, K6Member[]> = {}

  const resolve = (symbol: ts.Symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol)
  const declOf = (symbol: ts.Symbol) => symbol.valueDeclaration ?? symbol.declarations?.[0]

  const isProtected = (p: ts.Symbol) => {
    const decl = declOf(p)
    return decl ? (ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 : false
  }

  /** Names the type's members in `types` (once) when it is an object type worth completing. */
  function typeKey(type: ts.Type, fallback: string, depth: number): string | undefined {
    if (depth > MAX_DEPTH) return undefined
    const apparent = checker.getApparentType(type)
    if (apparent.flags & NOT_OBJECTS) return undefined
    // `Response | null` completes as a Response; `string | ArrayBuffer` as neither.
    if (apparent.isUnion()) {
      const present = apparent.types.filter((t) => !(t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)))
      return present.length === 1 && present[0]!.flags & ts.TypeFlags.Object ? typeKey(present[0]!, fallback, depth) : undefined
    }
    if (!(apparent.flags & ts.TypeFlags.Object)) return undefined
    const named = apparent.aliasSymbol?.name ?? apparent.getSymbol()?.name
    const key = named && !named.startsWith('__') ? named : fallback
    if (['Promise', 'Array', 'Function', 'Object', 'String', 'Number', 'Boolean', 'BatchResponses'].includes(key) || key.endsWith('Element')) return undefined
    if (key in types) return key
    types[key] = [] // before recursing: a type that refers to itself ends here
    const props = checker.getPropertiesOfType(apparent).filter((p) => !p.name.startsWith('__') && !isProtected(p))
    types[key] = props.slice(0, MAX_MEMBERS).map((p) => member(p, `${key}.${p.name}`, 'property', depth + 1))
    if (types[key].length === 0) {
      delete types[key]
      return undefined
    }
    return key
  }

  function member(raw: ts.Symbol, path: string, fallbackKind: K6MemberKind, depth: number): K6Member {
    const symbol = resolve(raw)
    const decl = declOf(symbol)
    const { doc, url } = docOf(symbol, checker)
    const base = { name: raw.name, doc, ...(url ? { url } : {}) }
    if (symbol.flags & ts.SymbolFlags.Class && decl) {
      const instance = checker.getDeclaredTypeOfSymbol(symbol)
      const ctor = checker.getTypeOfSymbolAtLocation(symbol, decl).getConstructSignatures()[0]
      const params = ctor ? checker.signatureToString(ctor, undefined, flags).replace(/\):.*$/s, ')') : '()'
      const type = typeKey(instance, path, depth)
      return { ...base, kind: 'class', detail: plain(`new ${raw.name}${params}`), ...(type ? { type } : {}) }
    }
    const valueType = decl ? checker.getTypeOfSymbolAtLocation(symbol, decl) : checker.getDeclaredTypeOfSymbol(symbol)
    const signatures = valueType.getCallSignatures()
    if (signatures.length > 0) {
      const sig = signatures[0]!
      const returned = typeKey(checker.getAwaitedType(sig.getReturnType()) ?? sig.getReturnType(), `${path}()`, depth)
      const more = signatures.length > 1 ? ` (+${signatures.length - 1} overload${signatures.length > 2 ? 's' : ''})` : ''
      const kind: K6MemberKind = fallbackKind === 'property' ? 'method' : 'function'
      return { ...base, kind, detail: plain(`${checker.signatureToString(sig, undefined, flags)}${more}`), ...(returned ? { type: returned } : {}) }
    }
    const type = typeKey(valueType, path, depth)
    const optional = symbol.flags & ts.SymbolFlags.Optional ? '?' : ''
    return { ...base, kind: fallbackKind === 'property' ? 'property' : 'constant', detail: plain(`${optional}: ${checker.typeToString(valueType, undefined, flags)}`), ...(type ? { type } : {}) }
  }

  const modules: K6Module[] = specifiers.map((specifier) => {
    const file = program.getSourceFile(fileOf(specifier))
    const moduleSymbol = file && checker.getSymbolAtLocation(file)
    if (!moduleSymbol) throw new Error(`@types/k6 has no module for ${specifier} at ${fileOf(specifier)}`)
    const exported = checker.getExportsOfModule(moduleSymbol)
    const values = exported.filter((s) => s.name !== 'default' && resolve(s).flags & ts.SymbolFlags.Value && !isHtmlElementClass(specifier, s.name))
    const fallback = exported.find((s) => s.name === 'default')
    let defaultExport: K6Module['defaultExport'] = null
    if (fallback) {
      const target = resolve(fallback)
      if (target === moduleSymbol || target.flags & ts.SymbolFlags.ValueModule) defaultExport = 'namespace'
      else defaultExport = member(fallback, `${specifier}.default`, 'constant', 0).type ?? null
    }
    return {
      name: specifier,
      defaultExport,
      exports: values.map((s) => member(s, `${specifier}.${s.name}`, 'constant', 1)).sort((a, b) => a.name.localeCompare(b.name)),
    }
  })

  // `export const options = { … }`: the keys k6 understands.
  const optionsModule = program.getSourceFile(path.join(typesDir, 'options', 'index.d.ts'))
  const optionsModuleSymbol = optionsModule && checker.getSymbolAtLocation(optionsModule)
  const optionsSymbol = optionsModuleSymbol && checker.getExportsOfModule(optionsModuleSymbol).find((s) => s.name === 'Options')
  const options = optionsSymbol ? checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(optionsSymbol)).map((p) => member(p, `options.${p.name}`, 'property', MAX_DEPTH)) : []

  // What k6 declares globally (`__ENV`, `__VU`, `open`, …), from global.d.ts's `declare global`.
  const globalFile = program.getSourceFile(path.join(typesDir, 'global.d.ts'))
  const globalBlock = globalFile?.statements.find((s): s is ts.ModuleDeclaration => ts.isModuleDeclaration(s) && s.name.getText(globalFile) === 'global')
  const globalNames = new Map<string, ts.Symbol>()
  if (globalBlock?.body && ts.isModuleBlock(globalBlock.body)) {
    for (const statement of globalBlock.body.statements) {
      const names = ts.isFunctionDeclaration(statement) && statement.name ? [statement.name] : ts.isVariableStatement(statement) ? statement.declarationList.declarations.map((d) => d.name) : []
      for (const name of names) {
        const symbol = checker.getSymbolAtLocation(name)
        if (symbol) globalNames.set(symbol.name, symbol)
      }
    }
  }
  const globals = [...globalNames.values()].map((s) => member(s, s.name, 'constant', 1))

  return { modules, types: sortKeys(types), options: options.sort((a, b) => a.name.localeCompare(b.name)), globals }
}

const sortKeys = <T>(record: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)))

const typesVersion = (createRequire(import.meta.url)('@types/k6/package.json') as { version: string }).version

/** The text of api.generated.ts for the installed @types/k6. */
export function render(): string {
  const { modules, types, options, globals } = generate()
  // One member per line: compact, and a new @types/k6 shows up as a readable diff.
  const list = (members: K6Member[], indent: string) => `[\n${members.map((m) => `${indent}  ${JSON.stringify(m)},`).join('\n')}\n${indent}]`
  const moduleText = (m: K6Module) =>
    `    { name: ${JSON.stringify(m.name)}, defaultExport: ${JSON.stringify(m.defaultExport)}, exports: ${list(m.exports, '    ')} },`
  return `// Generated by generate.ts from @types/k6 ${typesVersion}; do not edit by hand.
import type { K6ApiData } from './types.ts'

export const K6_API: K6ApiData = {
  modules: [
${modules.map(moduleText).join('\n')}
  ],
  types: {
${Object.entries(types).map(([name, members]) => `    ${JSON.stringify(name)}: ${list(members, '    ')},`).join('\n')}
  },
  options: ${list(options, '  ')},
  globals: ${list(globals, '  ')},
}
`
}

export const OUTPUT = fileURLToPath(new URL('./api.generated.ts', import.meta.url))

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(OUTPUT, render())
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`)
}
