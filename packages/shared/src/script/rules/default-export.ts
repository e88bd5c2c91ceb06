// k6 runs the default function in every iteration; without one, every scenario must name its own
// `exec` function.
import { asObject, posOf, property, START } from '../ast.ts'
import type { Rule } from '../context.ts'

export const defaultExportRule: Rule = {
  id: 'default-export',
  check(ctx, report) {
    if (ctx.hasDefault) return
    const { options } = ctx
    // With scenarios that all name their own `exec` function, k6 needs no default function.
    const scenarios = options ? asObject(property(options, 'scenarios')) : undefined
    const allExec = scenarios !== undefined && scenarios.properties.length > 0 && scenarios.properties.every((p) => p.type === 'ObjectProperty' && asObject(p.value) !== undefined && property(asObject(p.value)!, 'exec') !== undefined)
    if (allExec) return
    const last = ctx.program.body.at(-1)
    report.error('no-default-export', 'The script has no default export; k6 runs the default function in every iteration. Add e.g. export default function () { … } (an async or arrow function works too).', last ? posOf(last) : START)
  },
}
