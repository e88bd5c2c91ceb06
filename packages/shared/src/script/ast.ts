// Helpers over Babel's AST shared by the script checks (context.ts and the rules in rules/).
// No Node built-ins here: the checks run in the browser too.
import { VISITOR_KEYS, type Node, type ObjectExpression } from '@babel/types'

/** A position in the script; both 1-based. */
export interface Pos {
  line: number
  column: number
}

/** Where findings about the script as a whole point. */
export const START: Pos = { line: 1, column: 1 }

export const posOf = (node: Node): Pos => (node.loc ? { line: node.loc.start.line, column: node.loc.start.column + 1 } : START)

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string'

/** Visits every node below `root` (depth first, in source order). */
export function walk(root: Node, visit: (node: Node) => void): void {
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

/** The value of a string literal or of a template literal without expressions. */
export function stringValue(node: Node | null | undefined): string | undefined {
  if (!node) return undefined
  if (node.type === 'StringLiteral') return node.value
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? undefined
  return undefined
}

/** The name of an object property or method whose key is known statically. */
export function propertyName(node: Node): string | undefined {
  if (node.type !== 'ObjectProperty' && node.type !== 'ObjectMethod') return undefined
  if (node.computed) return stringValue(node.key)
  if (node.key.type === 'Identifier') return node.key.name
  if (node.key.type === 'StringLiteral') return node.key.value
  if (node.key.type === 'NumericLiteral') return String(node.key.value)
  return undefined
}

/** The value of the property `name` of an object literal. */
export function property(obj: ObjectExpression, name: string): Node | undefined {
  for (const p of obj.properties) {
    if (propertyName(p) === name && p.type === 'ObjectProperty') return p.value
  }
  return undefined
}

/** Unwraps `x as T`, `x satisfies T`, `<T>x` and `(x)`. */
export function unwrap(node: Node | null | undefined): Node | undefined {
  let n = node ?? undefined
  while (n && (n.type === 'TSAsExpression' || n.type === 'TSSatisfiesExpression' || n.type === 'TSTypeAssertion' || n.type === 'ParenthesizedExpression' || n.type === 'TSNonNullExpression')) {
    n = n.expression
  }
  return n
}

export const asObject = (node: Node | null | undefined): ObjectExpression | undefined => {
  const n = unwrap(node)
  return n?.type === 'ObjectExpression' ? n : undefined
}

export function numberValue(node: Node | undefined): number | undefined {
  const n = unwrap(node)
  return n?.type === 'NumericLiteral' ? n.value : undefined
}
