// k6 hints in the editor: completions of k6 module names, their exports, members of what they
// return (`res.` after `const res = http.get(…)`), `options` keys and k6 globals, and a hover
// card with the signature, docs and link. All of it comes from the digest of @types/k6 (see
// ../k6-api/); the JavaScript language adds its own local names and keywords beside these.
import type { Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete'
import { completionPath, typescriptLanguage } from '@codemirror/lang-javascript'
import { syntaxTree } from '@codemirror/language'
import type { Extension, Text } from '@codemirror/state'
import { hoverTooltip } from '@codemirror/view'
import { K6_MODULE_NAMES, K6_OPTIONS, inOptionsKey, k6Hints, k6Module, type K6Hints } from '../k6-api/hints.ts'
import type { K6Member } from '../k6-api/types.ts'

const hintsCache = new WeakMap<Text, K6Hints>()
function hintsFor(doc: Text): K6Hints {
  let hints = hintsCache.get(doc)
  if (!hints) hintsCache.set(doc, (hints = k6Hints(doc.toString())))
  return hints
}

/** A small card for a member: signature, docs, link. Built as DOM (never HTML from strings). */
function card(title: string, member: K6Member): HTMLElement {
  const root = document.createElement('div')
  root.className = 'cm-k6-card'
  const sig = root.appendChild(document.createElement('code'))
  sig.textContent = `${title}${member.kind === 'class' ? ` — ${member.detail}` : member.detail}`
  if (member.doc) root.appendChild(document.createElement('p')).textContent = member.doc
  if (member.url) {
    const link = root.appendChild(document.createElement('a'))
    link.href = member.url
    link.target = '_blank'
    link.rel = 'noreferrer noopener'
    link.textContent = 'k6 docs'
  }
  return root
}

const TYPE: Record<K6Member['kind'], string> = { function: 'function', method: 'method', class: 'class', constant: 'constant', property: 'property' }

const completion = (member: K6Member, section?: string): Completion => ({
  label: member.name,
  type: TYPE[member.kind],
  detail: member.kind === 'class' ? 'class' : member.detail.length > 60 ? `${member.detail.slice(0, 59)}…` : member.detail,
  info: () => card(member.name, member),
  boost: 1,
  ...(section ? { section } : {}),
})

/** Syntax nodes in which only the import-specifier completions make sense. */
const QUIET_NODES = new Set(['String', 'TemplateString', 'LineComment', 'BlockComment', 'RegExp'])

export function k6Completions(context: CompletionContext): CompletionResult | null {
  const { state, pos } = context
  const line = state.doc.lineAt(pos)
  const before = line.text.slice(0, pos - line.from)

  // import … from '|'
  const specifier = /(?:\bfrom|\bimport)\s*(['"])([\w/.@-]*)$/.exec(before)
  if (specifier) {
    return {
      from: pos - (specifier[2]?.length ?? 0),
      options: K6_MODULE_NAMES.map((name) => ({ label: name, type: 'namespace', detail: 'k6 module' })),
      validFor: /^[\w/.@-]*$/,
    }
  }

  // import { …| } from 'k6/…'
  const recent = state.sliceDoc(Math.max(0, pos - 2000), pos)
  const braces = /\bimport\s*(?:[\w$]+\s*,\s*)?\{([^}]*)$/.exec(recent)
  if (braces) {
    const from = /\}\s*from\s*(['"])([^'"]+)\1/.exec(state.sliceDoc(pos, pos + 1000))
    const module = from?.[2] ? k6Module(from[2]) : undefined
    if (!module) return null
    const listed = new Set((braces[1] ?? '').split(',').map((s) => s.trim().split(/\s+/)[0]))
    const word = context.matchBefore(/[\w$]*/)
    return {
      from: word?.from ?? pos,
      options: module.exports.filter((e) => !listed.has(e.name) || e.name === word?.text).map((e) => completion(e)),
      validFor: /^[\w$]*$/,
    }
  }

  const node = syntaxTree(state).resolveInner(pos, -1)
  if (QUIET_NODES.has(node.name)) return null

  if (inOptionsKey(state.sliceDoc(0, pos))) {
    const word = context.matchBefore(/[\w$]*/)
    return { from: word?.from ?? pos, options: K6_OPTIONS.map((o) => completion(o, 'k6 options')), validFor: /^[\w$]*$/ }
  }

  const path = completionPath(context)
  if (!path) return null
  const hints = hintsFor(state.doc)
  const from = pos - path.name.length
  if (path.path.length > 0) {
    const members = hints.membersOf(path.path)
    return members.length > 0 ? { from, options: members.map((m) => completion(m)), validFor: /^[\w$]*$/ } : null
  }
  if (!path.name && !context.explicit) return null
  return { from, options: hints.scope().map(({ name, member }) => ({ ...completion(member, 'k6'), label: name })), validFor: /^[\w$]*$/ }
}

/** Hovering over `http.get`, `check`, `res.status` or `__ENV` shows what k6 says about it. */
const k6Hover = hoverTooltip((view, pos, side) => {
  const line = view.state.doc.lineAt(pos)
  const offset = pos - line.from
  let start = offset
  let end = offset
  while (start > 0 && /[\w$]/.test(line.text[start - 1]!)) start--
  while (end < line.length && /[\w$]/.test(line.text[end]!)) end++
  if (start === end || (start === offset && side < 0) || (end === offset && side > 0)) return null
  const node = syntaxTree(view.state).resolveInner(line.from + start, 1)
  if (QUIET_NODES.has(node.name)) return null
  const name = line.text.slice(start, end)
  const chain = /((?:[A-Za-z_$][\w$]*\s*\.\s*)*)$/.exec(line.text.slice(0, start))?.[1] ?? ''
  const path = [...chain.split('.').map((s) => s.trim()).filter(Boolean), name]
  const found = hintsFor(view.state.doc).describe(path)
  if (!found) return null
  return { pos: line.from + start, end: line.from + end, above: true, create: () => ({ dom: card(path.join('.'), found.member) }) }
})

/** Everything k6-specific the editor adds to the TypeScript (and so JavaScript) language. */
export function k6Language(): Extension {
  return [typescriptLanguage.data.of({ autocomplete: k6Completions }), k6Hover]
}
