// Stampede's metric frames as they travel live (runner heartbeat → API → WebSocket viewers): one
// frame per second of a run, in the format packages/k6-output/FRAMES.md defines (readers and
// merging: @stampede/k6-output). The schema checks the shape a relay and a viewer rely on; k6
// writes the frames, but the file is in the run's directory, so what the runner reads from it is
// checked like any other input.
import { z } from 'zod'

const finite = z.number().finite()
const binRuns = z.array(z.array(finite).min(2)).max(100_000)

export const metricSeriesSchema = z.object({
  metric: z.string().max(1024),
  type: z.enum(['counter', 'gauge', 'rate', 'trend']),
  contains: z.string().max(32).optional(),
  tags: z.record(z.string().max(4096), z.string().max(65_536)).optional(),
  overflow: z.boolean().optional(),
  count: finite,
  sum: finite.optional(),
  passes: finite.optional(),
  min: finite.optional(),
  max: finite.optional(),
  last: finite.optional(),
  last_t: finite.optional(),
  bins: z.object({ zero: finite.optional(), pos: binRuns.optional(), neg: binRuns.optional() }).optional(),
})
export type MetricSeries = z.infer<typeof metricSeriesSchema>

export const metricFrameSchema = z.object({
  v: z.literal(1),
  seq: z.number().int().nonnegative(),
  /** The period, Unix ms, [start, end). */
  start: z.number().int(),
  end: z.number().int(),
  final: z.boolean().optional(),
  mapping: z.object({ kind: z.literal('log'), gamma: finite }),
  series: z.array(metricSeriesSchema),
  /**
   * Set by the runner on a frame too large for a heartbeat: only its total series (no tags) are
   * in it. The run's stored frames (the `metrics` artifact, `runs.metrics`) are whole.
   */
  reduced: z.boolean().optional(),
})
export type MetricFrame = z.infer<typeof metricFrameSchema>
