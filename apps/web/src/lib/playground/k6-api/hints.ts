// What the playground knows about a k6 script without a type checker: which names its imports
// bind to which k6 modules, what a few simple declarations hold (`const res = http.get(…)`,
// `const c = new Counter(…)`), and so which members to offer after `name.` and what to show
// when hovering over one. Pure text in, data out; editor glue lives in ../editor/.
import { K6_API } from './api.generated.ts'
import type { K6ApiData, K6Member, K6Module } from './types.ts'

/** What a name in the script stands for, as far as these hints can tell. */
export type K6Value = { kind: 'module'; module: K6Module } | { kind: 'type'; type: string } | { kind: 'member'; member: K6Member; path: string }

export interface K6Hints {
  /** Members of what `path` (`http`, `exec.vu`, `res.timings`) evaluates to; empty if unknown. */
  membersOf(path: readonly string[]): K6Member[]
  /** The k6 export or member `path` names (`http.get`, `check`, `res.status`), for hover hints. */
  describe(path: readonly string[]): { member: K6Member; path: string } | undefined
  /** Imported k6 names and k6 globals, for completing bare identifiers. */
  scope(): { name: string; member: K6Member }[]
}

export interface ImportBinding {
  local: string
  module: string
  /** `default` and `* as` bind the module (or its default object); named imports one export. */
  imported: 'default' | '*' | string
}

const IDENT = '[A-Za-z_$][\\w$]*'
const IMPORT_RE = new RegExp(`import\\s+([^'";]*?)\\s*from\\s*(['"])([^'"]+)\\2`, 'g')

/** The names a script's `import … from '…'` statements bind (any module; callers filter). */
export function importBindings(source: string): ImportBinding[] {
  const bindings: ImportBinding[] = []
  for (const match of source.matchAll(IMPORT_RE)) {
    const clause = match[1] ?? ''
    const module = match[3] ?? ''
    if (/^type\b/.test(clause)) continue
    const named = /\{([^}]*)\}/.exec(clause)
    const rest = clause.replace(/\{[^}]*\}/, '').split(',').map((s) => s.trim()).filter(Boolean)
    for (const part of rest) {
      const star = new RegExp(`^\\*\\s*as\\s+(${IDENT})$`).exec(part)
      if (star?.[1]) bindings.push({ local: star[1], module, imported: '*' })
      else if (new RegExp(`^${IDENT}$`).test(part)) bindings.push({ local: part, module, imported: 'default' })
    }
    for (const item of named?.[1]?.split(',') ?? []) {
      const spec = new RegExp(`^(?:type\\s+)?(${IDENT}|'[^']*'|"[^"]*")(?:\\s+as\\s+(${IDENT}))?$`).exec(item.trim())
      if (!spec?.[1] || /^type\s/.test(item.trim())) continue
      const imported = spec[1].replace(/^['"]|['"]$/g, '')
      bindings.push({ local: spec[2] ?? imported, module, imported })
    }
  }
  return bindings
}

export interface Declaration {
  local: string
  /** `new` an imported class, call a function, or just read a value. */
  how: 'new' | 'call' | 'read'
  /** The expression's name path: `http.get` → ['http', 'get']. */
  path: string[]
}

const DECLARATION_RE = new RegExp(`\\b(?:const|let|var)\\s+(${IDENT})\\s*=\\s*(?:await\\s+)?(new\\s+)?(${IDENT}(?:\\s*\\.\\s*${IDENT})*)\\s*(\\()?`, 'g')

/** Simple declarations whose value the hints can follow: `const res = http.get(…)` and the like. */
export function declarations(source: string): Declaration[] {
  return [...source.matchAll(DECLARATION_RE)].map((m) => ({
    local: m[1] ?? '',
    how: m[2] ? 'new' : m[4] ? 'call' : 'read',
    path: (m[3] ?? '').split('.').map((s) => s.trim()),
  }))
}

/** Hints for one version of a script. Cheap enough to build on every keystroke. */
export function k6Hints(source: string, api: K6ApiData = K6_API): K6Hints {
  const modules = new Map(api.modules.map((m) => [m.name, m]))
  const names = new Map<string, K6Value>()
  for (const b of importBindings(source)) {
    const module = modules.get(b.module)
    if (!module) continue
    if (b.imported === '*' || (b.imported === 'default' && module.defaultExport === 'namespace')) names.set(b.local, { kind: 'module', module })
    else if (b.imported === 'default') {
      if (module.defaultExport) names.set(b.local, { kind: 'type', type: module.defaultExport })
    } else {
      const member = module.exports.find((e) => e.name === b.imported)
      if (member) names.set(b.local, { kind: 'member', member, path: `${module.name}.${member.name}` })
    }
  }
  for (const g of api.globals) if (!names.has(g.name)) names.set(g.name, { kind: 'member', member: g, path: g.name })

  const members = (value: K6Value): K6Member[] => {
    if (value.kind === 'module') return value.module.exports
    const type = value.kind === 'type' ? value.type : value.member.type
    return (type && api.types[type]) || []
  }

  const declarationsOf = new Map<string, Declaration>()
  for (const d of declarations(source)) if (!names.has(d.local) && !declarationsOf.has(d.local)) declarationsOf.set(d.local, d)

  /** What `path` evaluates to (`how` = what the last step does with it). */
  const evaluate = (path: readonly string[], how: Declaration['how'] = 'read', seen = new Set<string>()): K6Value | undefined => {
    const [head, ...rest] = path
    if (!head) return undefined
    let value = names.get(head)
    if (!value) {
      // A variable declared from a k6 value, followed once per name (no cycles).
      const declared = seen.has(head) ? undefined : declarationsOf.get(head)
      if (declared) value = evaluate(declared.path, declared.how, new Set([...seen, head]))
    }
    for (const step of rest) {
      const member = value && members(value).find((m) => m.name === step)
      value = member ? { kind: 'member', member, path: `${describePath(value!)}.${step}` } : undefined
    }
    if (!value || how === 'read') return value
    // Calling a function or constructing a class yields its `type` (result or instances).
    if (value.kind !== 'member' || !value.member.type) return undefined
    if (how === 'new' ? value.member.kind !== 'class' : value.member.kind !== 'function' && value.member.kind !== 'method') return undefined
    return { kind: 'type', type: value.member.type }
  }

  return {
    membersOf(path) {
      const value = evaluate(path)
      return value ? members(value) : []
    },
    describe(path) {
      const value = evaluate(path)
      return value?.kind === 'member' ? { member: value.member, path: value.path } : undefined
    },
    scope() {
      return [...names].flatMap(([name, value]) => (value.kind === 'member' ? [{ name, member: value.member }] : []))
    },
  }
}

const describePath = (value: K6Value): string => (value.kind === 'module' ? value.module.name : value.kind === 'member' ? value.path : value.type)

/** k6 modules a script may import, for completing `from '…'`. */
export const K6_MODULE_NAMES: readonly string[] = K6_API.modules.map((m) => m.name)

export function k6Module(name: string): K6Module | undefined {
  return K6_API.modules.find((m) => m.name === name)
}

/** The keys k6 reads from `export const options = { … }`. */
export const K6_OPTIONS: readonly K6Member[] = K6_API.options

/**
 * Whether `before` (the script up to the cursor) ends where a key of the top-level
 * `options` object goes: directly inside `export const options = {`, after `{` or `,`.
 */
export function inOptionsKey(before: string): boolean {
  const start = before.search(/\bexport\s+const\s+options\s*(?::[^=]+)?=\s*\{[^]*$/)
  if (start < 0) return false
  // The key being typed (if any) does not count; what precedes it must be `{` or `,`.
  const body = before.slice(before.indexOf('{', start) + 1).replace(/[\w$]*$/, '')
  let depth = 0
  let quote: string | null = null
  let last = '{'
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = null
      continue
    }
    if (c === '/' && body[i + 1] === '/') {
      const eol = body.indexOf('\n', i)
      if (eol < 0) return false // the cursor is in a comment
      i = eol
      continue
    }
    if (c === "'" || c === '"' || c === '`') quote = c
    else if ('{[('.includes(c)) depth++
    else if ('}])'.includes(c)) {
      if (depth === 0) return false // the options object closed before the cursor
      depth--
    }
    if (depth === 0 && !/\s/.test(c)) last = c
  }
  return quote === null && depth === 0 && (last === '{' || last === ',')
}
