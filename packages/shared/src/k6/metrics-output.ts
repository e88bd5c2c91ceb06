// Lines of k6's JSON output (`--out json=FILE`): one Metric declaration per metric, then one
// Point per sample. Used to read the archived metrics stream.
import { z } from 'zod'

export const metricLineSchema = z.object({
  type: z.literal('Metric'),
  metric: z.string(),
  data: z.object({
    name: z.string(),
    type: z.enum(['counter', 'gauge', 'rate', 'trend']),
    contains: z.string(),
    thresholds: z.array(z.string()).nullable(),
    submetrics: z.array(z.object({ name: z.string(), suffix: z.string(), tags: z.record(z.string(), z.string()) })).nullable(),
  }),
})
export const pointLineSchema = z.object({
  type: z.literal('Point'),
  metric: z.string(),
  data: z.object({ time: z.string(), value: z.number(), tags: z.record(z.string(), z.string()).nullable() }),
})
export const jsonOutputLineSchema = z.discriminatedUnion('type', [metricLineSchema, pointLineSchema])
export type JsonOutputLine = z.infer<typeof jsonOutputLineSchema>
