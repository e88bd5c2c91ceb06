// k6 v2.2.0's --summary-export file, parsed rather than guessed. Read from real output (see
// fixtures/): metric objects carry only the fields of their type, and each threshold maps its
// expression to a boolean that is TRUE WHEN THE THRESHOLD WAS CROSSED (failed).
import { z } from 'zod'

const thresholdsSchema = z.record(z.string(), z.boolean())

export const summaryMetricSchema = z
  .object({
    // counter
    count: z.number().optional(),
    rate: z.number().optional(),
    // gauge
    value: z.number().optional(),
    // rate metrics: passes = samples that were true, fails = samples that were false
    passes: z.number().optional(),
    fails: z.number().optional(),
    // trend (summaryTrendStats) and gauge min/max
    avg: z.number().optional(),
    min: z.number().optional(),
    med: z.number().optional(),
    max: z.number().optional(),
    thresholds: thresholdsSchema.optional(),
  })
  .catchall(z.unknown())
export type SummaryMetric = z.infer<typeof summaryMetricSchema>

interface SummaryGroup {
  name: string
  path: string
  id?: string | undefined
  groups: Record<string, SummaryGroup>
  checks: Record<string, { name: string; path: string; passes: number; fails: number }>
}
const groupSchema: z.ZodType<SummaryGroup> = z.lazy(() =>
  z.object({
    name: z.string(),
    path: z.string(),
    id: z.string().optional(),
    groups: z.record(z.string(), groupSchema),
    checks: z.record(z.string(), z.object({ name: z.string(), path: z.string(), passes: z.number(), fails: z.number() })),
  }),
)

export const k6SummarySchema = z.object({
  root_group: groupSchema,
  metrics: z.record(z.string(), summaryMetricSchema),
})
export type K6Summary = z.infer<typeof k6SummarySchema>

export interface ThresholdResult {
  metric: string
  expression: string
  ok: boolean
  /** The value k6 measured for the threshold's aggregation (e.g. the p(95) for `p(95)<500`); null when the summary does not hold it. */
  actual?: number | null
}

/** The measured value a threshold expression compares, read from the metric's summary entry. */
export function thresholdActual(data: Record<string, unknown>, expression: string): number | null {
  const aggregation = /^\s*([a-z]+(?:\(\s*[\d.]+\s*\))?)\s*(?:<=|>=|===|==|!=|<|>)/.exec(expression)?.[1]?.replace(/\s+/g, '')
  if (!aggregation) return null
  const pick = (key: string) => (typeof data[key] === 'number' && Number.isFinite(data[key]) ? data[key] : null)
  // Rate metrics keep their rate as `value`; counters keep theirs as `rate`.
  if (aggregation === 'rate') return pick('rate') ?? pick('value')
  return pick(aggregation)
}

/** The metric values Stampede keeps as columns on a run. */
export interface RunMetrics {
  httpReqs: number | null
  httpReqFailedRate: number | null
  httpReqRate: number | null
  iterations: number | null
  vusMax: number | null
  httpReqDurationAvg: number | null
  httpReqDurationMin: number | null
  httpReqDurationMed: number | null
  httpReqDurationMax: number | null
  httpReqDurationP90: number | null
  httpReqDurationP95: number | null
  httpReqDurationP99: number | null
  checksPassed: number | null
  checksFailed: number | null
  dataSent: number | null
  dataReceived: number | null
}

/** Trend statistics the runner asks k6 to export (k6's default omits p(99)). */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'] as const

export function parseSummary(json: unknown): K6Summary {
  return k6SummarySchema.parse(json)
}

export function thresholdResults(summary: K6Summary): ThresholdResult[] {
  const results: ThresholdResult[] = []
  for (const [metric, data] of Object.entries(summary.metrics)) {
    for (const [expression, crossed] of Object.entries(data.thresholds ?? {})) {
      results.push({ metric, expression, ok: !crossed, actual: thresholdActual(data as Record<string, unknown>, expression) })
    }
  }
  return results.sort((a, b) => a.metric.localeCompare(b.metric) || a.expression.localeCompare(b.expression))
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

export function extractRunMetrics(summary: K6Summary): RunMetrics {
  const m = summary.metrics
  const duration = m['http_req_duration']
  const failed = m['http_req_failed']
  const checks = m['checks']
  return {
    httpReqs: num(m['http_reqs']?.count),
    httpReqRate: num(m['http_reqs']?.rate),
    httpReqFailedRate: num(failed?.value),
    iterations: num(m['iterations']?.count),
    vusMax: num(m['vus_max']?.max) ?? num(m['vus_max']?.value) ?? num(m['vus']?.max),
    httpReqDurationAvg: num(duration?.avg),
    httpReqDurationMin: num(duration?.min),
    httpReqDurationMed: num(duration?.med),
    httpReqDurationMax: num(duration?.max),
    httpReqDurationP90: num(duration?.['p(90)']),
    httpReqDurationP95: num(duration?.['p(95)']),
    httpReqDurationP99: num(duration?.['p(99)']),
    checksPassed: num(checks?.passes),
    checksFailed: num(checks?.fails),
    dataSent: num(m['data_sent']?.count),
    dataReceived: num(m['data_received']?.count),
  }
}
