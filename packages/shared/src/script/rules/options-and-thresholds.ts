// The script should export options with thresholds, and each threshold should be on a metric
// that exists (one of k6's or a custom metric of the script); k6 lets a threshold on any other
// name pass silently.
import { asObject, posOf, property, propertyName } from '../ast.ts'
import type { Rule } from '../context.ts'
import { closest, K6_BUILTIN_METRICS } from '../metrics.ts'

export const optionsAndThresholdsRule: Rule = {
  id: 'options-and-thresholds',
  check(ctx, report) {
    const { optionsNode, options } = ctx
    if (!optionsNode) {
      report.warn('no-options', 'The script exports no options, so k6 runs one iteration with one VU and checks no thresholds. Add export const options = { vus, duration, thresholds }.')
      return
    }
    if (!options) return
    const thresholdsNode = property(options, 'thresholds')
    const thresholds = asObject(thresholdsNode)
    if (!thresholdsNode) {
      report.warn('no-thresholds', 'The options have no thresholds, so the run passes whatever the response times and errors are. Add e.g. thresholds: { http_req_failed: ["rate<0.01"], http_req_duration: ["p(95)<500"] }.', posOf(options))
      return
    }
    if (!thresholds || ctx.dynamicMetricName) return
    const known = new Set([...K6_BUILTIN_METRICS, ...ctx.customMetrics])
    for (const p of thresholds.properties) {
      const key = propertyName(p)
      if (key === undefined) continue
      const brace = key.indexOf('{')
      const metric = (brace >= 0 ? key.slice(0, brace) : key).trim()
      if (known.has(metric)) continue
      const guess = closest(metric, known)
      report.warn(
        'unknown-threshold-metric',
        `The threshold "${key}" is on "${metric}", which is neither a k6 metric nor defined by this script; k6 would never evaluate it and the run would pass anyway. ${guess ? `Did you mean "${guess}"?` : 'Define it with new Counter/Gauge/Rate/Trend("' + metric + '") or fix the name.'}`,
        posOf(p),
      )
    }
  },
}
