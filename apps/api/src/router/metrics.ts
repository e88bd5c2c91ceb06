// runs.metrics: a finished run's per-second series, from its metric frames as stored in Postgres
// (packages/runs/src/metrics.ts). Read access, so a read token can chart a run.
//
// Which series: the named `metrics` (default every metric); their totals (no tags) by default;
// with `tags`, the tagged series whose tags include every given key/value; with `tagged: true`,
// every tagged series of those metrics (and each metric's overflow series). Which periods: those
// overlapping [from, to) (Unix ms; default the whole run). The answer has one time axis
// (`periods`: start and end of each period in which any returned series has samples) and per
// series arrays aligned with it (`points`: count and the type's fields; trends p50/p90/p95/p99
// from each period's bins, the bins themselves with `bins: true`), plus the series' `total` over
// the window (trends' quantiles from the merged bins, within 0.4 % of k6's own).
import { TRPCError } from '@trpc/server'
import { z } from 'zod'
import { idSchema, isTerminal, type Artifacts } from '@stampede/shared'
import { pgQuery, type Db, type Run } from '@stampede/db'
import { lineUpSeries, periodSeries, totalOf, type ChunkPoints, type ChunkSegment, type MetricPoints, type SeriesTotal } from '@stampede/runs/metrics'
import type { Bins, MetricType, Series } from '@stampede/k6-output'
import { projectProcedure } from '../trpc.ts'

/** The tags frames keep (FRAMES.md): a filter on any other tag would match nothing. */
export const FRAME_TAGS = ['scenario', 'group', 'name', 'method', 'status', 'expected_response', 'check'] as const
export const MAX_METRIC_NAMES = 50
/** Series one call may return (each can be an hour of seconds). */
export const MAX_SERIES = 500
/** The longest a period may be: a chunk (one minute of period starts) is looked for this far before `from`. */
const MAX_PERIOD_MS = 10 * 60_000

const timeSchema = (what: string) =>
  z
    .number({ error: `must be a time in Unix milliseconds (${what})` })
    .int({ error: 'must be a whole number of Unix milliseconds' })
    .min(0, { error: 'must be a time in Unix milliseconds, at least 0' })
    .max(8.64e15, { error: 'must be a time in Unix milliseconds, at most 8.64e15' })

export const runMetricsInput = z
  .object({
    runId: idSchema(),
    /** Metric names, e.g. ['http_req_duration', 'http_reqs']; default every metric of the run. */
    metrics: z
      .array(z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'))
      .min(1, 'must name at least one metric (leave it out for every metric)')
      .max(MAX_METRIC_NAMES, `must name at most ${MAX_METRIC_NAMES} metrics; ask in several calls`)
      .optional(),
    /** Tagged series whose tags include all of these, e.g. { status: '500' }. */
    tags: z
      .record(z.string(), z.string({ error: 'must be a string' }).max(1000, 'must be at most 1000 characters'))
      .superRefine((tags, ctx) => {
        for (const key of Object.keys(tags)) {
          if (!(FRAME_TAGS as readonly string[]).includes(key)) ctx.addIssue({ code: 'custom', path: [key], message: `is not a tag frames keep (${FRAME_TAGS.join(', ')})` })
        }
      })
      .optional(),
    /** Every tagged series of the metrics (and their overflow series) instead of their totals. */
    tagged: z.boolean({ error: 'must be true or false' }).optional(),
    /** Periods overlapping [from, to), Unix ms; default the whole run. */
    from: timeSchema('the start of the window').optional(),
    to: timeSchema('the end of the window').optional(),
    /** Also each period's trend bins (FRAMES.md's runs of bins), for merging or other quantiles. */
    bins: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .superRefine((input, ctx) => {
    if (input.from !== undefined && input.to !== undefined && input.from > input.to) ctx.addIssue({ code: 'custom', path: ['from'], message: `must not be after to (${input.from} > ${input.to})` })
  })
export type RunMetricsInput = z.infer<typeof runMetricsInput>

/**
 * One series' values, aligned with the answer's `periods` (one entry per period): `count` is 0
 * and every other field null in a period where the series had no samples.
 */
export type { MetricPoints }

export interface MetricSeries {
  metric: string
  type: MetricType
  /** k6's value type: default, time (ms) or data (bytes). */
  contains: string | null
  /** The series' tags; null for a metric's total and its overflow series. */
  tags: Record<string, string> | null
  /** The metric's overflow series: samples of tag sets past the series cap (FRAMES.md). */
  overflow: boolean
  points: MetricPoints
  /** The series over the window. */
  total: SeriesTotal
}

export interface RunMetrics {
  runId: string
  /** Why there is nothing: the run has no stored frames. Null when frames are stored. */
  reason: string | null
  /** Every frame of the run's file is stored (false: still being stored, or an earlier attempt stopped). */
  complete: boolean
  /** What could not be read from the file (damaged, bad lines). */
  problem: string | null
  /** The stored frames: their number, the first start and last end (Unix ms), and whether the last one was k6's final frame. */
  frames: { periods: number; start: number | null; end: number | null; final: boolean } | null
  /** The time axis every series' arrays follow: the periods in the window in which any returned series has samples, [start, end) in Unix ms. */
  periods: { start: number[]; end: number[] }
  series: MetricSeries[]
}

export const metricsProcedure = projectProcedure('read')
  .input(runMetricsInput)
  .query(async ({ ctx, input }) => readRunMetrics(ctx.db, await ctx.access.run(input.runId), input))

function noFramesReason(run: Pick<Run, 'status' | 'artifacts' | 'artifactsPending'>): string {
  const stored = (run.artifacts ?? {}) as Artifacts
  if (!isTerminal(run.status)) return 'the run has no metric frames yet: it is still running; they are stored when it ends'
  if (stored.metrics?.key.endsWith('.ndjson.gz')) return 'the run\'s metric frames are being stored; ask again in a moment'
  if (run.artifactsPending) return 'the run\'s artifacts are not stored yet; its metric frames are stored with them'
  if (stored.metrics) return 'the run has no metric frames: it ran before Stampede\'s metric frames (its metrics artifact is k6\'s per-sample JSON)'
  return 'the run has no metric frames: k6 wrote none (it did not start, or its outputs were not stored)'
}

interface ChunkRow {
  series_id: string
  chunk_start: string
  first_start: string
  last_start: string
  points: ChunkPoints
  /** Null when the series' whole-run total is used. */
  total: Series | null
  bins: (Bins | null)[] | null
}

export async function readRunMetrics(db: Db, run: Pick<Run, 'id' | 'status' | 'artifacts' | 'artifactsPending'>, input: RunMetricsInput): Promise<RunMetrics> {
  const head = await pgQuery<{ periods: number; start_ms: string | null; end_ms: string | null; gamma: number | null; final: boolean; complete: boolean; problem: string | null }>(db, {
    text: 'SELECT periods, start_ms, end_ms, gamma, final, complete, problem FROM run_metrics WHERE run_id = $1',
    values: [run.id],
  })
  const frames = head.rows[0]
  if (!frames) return { runId: run.id, reason: noFramesReason(run), complete: false, problem: null, frames: null, periods: { start: [], end: [] }, series: [] }
  const base = {
    runId: run.id,
    reason: null,
    complete: frames.complete,
    problem: frames.problem,
    frames: { periods: frames.periods, start: frames.start_ms === null ? null : Number(frames.start_ms), end: frames.end_ms === null ? null : Number(frames.end_ms), final: frames.final },
  }
  const gamma = frames.gamma ?? 0

  const tagFilter = input.tags && Object.keys(input.tags).length > 0 ? JSON.stringify(input.tags) : null
  const from = input.from ?? 0
  const to = input.to ?? Number.MAX_SAFE_INTEGER
  // A window holding every stored period: each series' whole-run total, stored with it, is the answer.
  const wholeRun = frames.complete && frames.start_ms !== null && frames.end_ms !== null && from <= Number(frames.start_ms) && to >= Number(frames.end_ms)
  const series = await pgQuery<{ id: string; metric: string; type: MetricType; contains: string | null; tags: Record<string, string> | null; overflow: boolean; total: Series | null }>(db, {
    text: `SELECT id, metric, type, contains, tags, overflow, ${wholeRun ? 'total' : 'NULL::json AS total'} FROM run_metric_series
            WHERE run_id = $1
              AND ($2::text[] IS NULL OR metric = ANY($2::text[]))
              AND CASE WHEN $3::jsonb IS NOT NULL THEN tags @> $3::jsonb
                       WHEN $4::boolean THEN tags IS NOT NULL OR overflow
                       ELSE tags IS NULL AND NOT overflow END
            ORDER BY metric, overflow, key
            LIMIT ${MAX_SERIES + 1}`,
    values: [run.id, input.metrics ?? null, tagFilter, input.tagged === true || input.tags !== undefined],
  })
  if (series.rows.length > MAX_SERIES) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `more than ${MAX_SERIES} series match: name fewer metrics or narrow the tagged series with tags` })
  }
  if (series.rows.length === 0) return { ...base, periods: { start: [], end: [] }, series: [] }

  // A chunk is whole in the window when its first period starts at or after `from` and its last
  // before `to`; only a chunk cut by the window needs its periods' bins (to total part of it).
  const chunks = await pgQuery<ChunkRow>(db, {
    text: `SELECT series_id, chunk_start, first_start, last_start, points, ${wholeRun ? 'NULL::json AS total' : 'total'},
                  CASE WHEN $4::boolean OR NOT (first_start >= $2 AND last_start < $3) THEN bins END AS bins
             FROM run_metric_chunks
            WHERE series_id = ANY($1::uuid[]) AND chunk_start < $3 AND chunk_start > $2::bigint - ${MAX_PERIOD_MS}
              AND first_start < $3 AND last_end > $2
            ORDER BY series_id, chunk_start`,
    values: [series.rows.map((s) => s.id), from, to, input.bins === true],
  })
  const bySeries = new Map<string, ChunkRow[]>()
  for (const c of chunks.rows) {
    const list = bySeries.get(c.series_id)
    if (list) list.push(c)
    else bySeries.set(c.series_id, [c])
  }

  // Each series' periods in the window (per chunk: all of them, or the indexes inside the window)
  // and the parts its total merges; then lineUpSeries puts them on one time axis.
  const picked = series.rows.map((s) => {
    const segments: ChunkSegment[] = []
    const parts: Series[] = []
    for (const c of bySeries.get(s.id) ?? []) {
      const p = c.points
      const at = Number(c.chunk_start)
      if (Number(c.first_start) >= from && Number(c.last_start) < to) {
        segments.push({ at, points: p, bins: c.bins, only: null })
        if (c.total) parts.push(c.total)
        continue
      }
      const only: number[] = []
      for (let i = 0; i < p.start.length; i++) {
        if (at + p.start[i]! < to && at + p.end[i]! > from) {
          only.push(i)
          parts.push(periodSeries(s, p, c.bins, i))
        }
      }
      segments.push({ at, points: p, bins: c.bins, only })
    }
    return { s, segments, parts }
  })
  const { periods, points } = lineUpSeries(
    picked.map(({ s, segments }) => ({ type: s.type, segments })),
    input.bins === true,
  )
  const out: MetricSeries[] = picked.map(({ s, parts }, i) => ({
    metric: s.metric,
    type: s.type,
    contains: s.contains,
    tags: s.tags,
    overflow: s.overflow,
    points: points[i]!,
    total: totalOf(s.type, s.total ? [s.total] : parts, gamma),
  }))
  return { ...base, periods, series: out }
}
