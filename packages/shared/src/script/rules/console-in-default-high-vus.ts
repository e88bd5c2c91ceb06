// Logging in the default function runs in every iteration of every VU; at high VU counts it
// floods the console and slows k6 down.
import type { Node, ObjectExpression } from '@babel/types'
import { asObject, numberValue, posOf, property, unwrap, walk } from '../ast.ts'
import type { Rule } from '../context.ts'

/** Above this many VUs, logging in every iteration floods the console and slows k6 down. */
export const CONSOLE_VUS_WARNING = 50

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

export const consoleInDefaultHighVusRule: Rule = {
  id: 'console-in-default-high-vus',
  check(ctx, report) {
    const { options, defaultNode } = ctx
    const defaultFn = unwrap(defaultNode?.type === 'Identifier' ? ctx.topLevel.get(defaultNode.name) : defaultNode)
    if (!options || !defaultFn || (defaultFn.type !== 'FunctionDeclaration' && defaultFn.type !== 'FunctionExpression' && defaultFn.type !== 'ArrowFunctionExpression')) return
    const vus = staticMaxVus(options)
    if (!(vus > CONSOLE_VUS_WARNING)) return
    walk(defaultFn.body, (node) => {
      if (node.type === 'CallExpression' && node.callee.type === 'MemberExpression' && node.callee.object.type === 'Identifier' && node.callee.object.name === 'console') {
        report.warn('console-in-default-high-vus', `console output in the default function runs in every iteration of up to ${vus} VUs; it floods the console and slows k6. Log only a sample (e.g. when __ITER === 0), or count events with a Counter metric.`, posOf(node))
      }
    })
  },
}
