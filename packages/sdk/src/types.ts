// Every API type the SDK hands out is inferred from the API's own router, never copied: a change
// to a procedure's input or output changes these types, and code using a removed field stops
// compiling (see test/types/).
import type { AppRouter } from '@stampede/api'
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server'

export type { AppRouter }
export type RouterInputs = inferRouterInputs<AppRouter>
export type RouterOutputs = inferRouterOutputs<AppRouter>

export type Run = RouterOutputs['runs']['byId']
export type RunPage = RouterOutputs['runs']['list']
export type Test = RouterOutputs['tests']['byId']
export type Location = RouterOutputs['locations']['list'][number]
export type RunStartInput = RouterInputs['runs']['start']
export type RunListInput = RouterInputs['runs']['list']
/** `runs.metrics`' input: runId, and optionally metrics, tags, tagged, from, to (Unix ms), bins. */
export type RunMetricsInput = RouterInputs['runs']['metrics']
/** A finished run's per-second series (`runs.metrics`): per series `points` (arrays, one entry per period) and `total`. */
export type RunMetrics = RouterOutputs['runs']['metrics']
export type RunMetricSeries = RunMetrics['series'][number]
export type ScriptValidation = RouterOutputs['scripts']['validate']
export type Job = RouterOutputs['jobs']['list'][number]
