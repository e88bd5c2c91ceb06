// lineUpSeries (runs.metrics' time axis and per-series arrays) against the way runs.metrics lined
// series up before it (kept below as the reference, period by period through a map of every
// start): the same answer, to the byte of its JSON, for chunks stored by the ingestion (totals,
// tagged series with gaps, windows that cut chunks, bins) and for hand-made chunks that break the
// usual shape (periods missing, ends that differ between series, fields absent, periods out of order).
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, pgQuery, type Db } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import type { Bins, MetricType } from '@stampede/k6-output'
import { syntheticFrameFile } from './frames-fixture.ts'
import { ingestMetricFrames, lineUpSeries, POINT_FIELDS, type ChunkPoints, type ChunkSegment, type MetricPoints } from './metrics.ts'

type Input = { type: MetricType; segments: ChunkSegment[] }[]

/** How runs.metrics lined series up before lineUpSeries (apps/api/src/router/metrics.ts at e790d1c). */
function reference(series: Input, withBins: boolean) {
  const ends = new Map<number, number>()
  for (const { segments } of series) {
    for (const { at, points: p, only } of segments) {
      for (const i of only ?? p.start.keys()) {
        const start = at + p.start[i]!
        const end = at + p.end[i]!
        const known = ends.get(start)
        if (known === undefined || end > known) ends.set(start, end)
      }
    }
  }
  const axis = [...ends.keys()].sort((a, b) => a - b)
  const position = new Map(axis.map((start, i) => [start, i]))
  const out = series.map(({ type, segments }) => {
    const fields = POINT_FIELDS[type]
    const periods = segments.reduce((n, g) => n + (g.only?.length ?? g.points.start.length), 0)
    if (periods === axis.length) {
      const points: MetricPoints = { count: [] }
      for (const f of fields) points[f] = []
      if (withBins && type === 'trend') points.bins = []
      for (const { points: p, bins, only } of segments) {
        const take = <T,>(from: readonly T[] | undefined, into: T[], missing: T): void => {
          if (only) for (const i of only) into.push(from?.[i] ?? missing)
          else if (from) for (const v of from) into.push(v)
          else for (let i = 0; i < p.start.length; i++) into.push(missing)
        }
        take(p.count, points.count, 0)
        for (const f of fields) take(p[f], points[f]!, null)
        if (points.bins) take(bins ?? undefined, points.bins, null)
      }
      return points
    }
    const points: MetricPoints = { count: new Array<number>(axis.length).fill(0) }
    const columns = fields.map((f) => (points[f] = new Array<number | null>(axis.length).fill(null)))
    if (withBins && type === 'trend') points.bins = new Array<Bins | null>(axis.length).fill(null)
    for (const { at, points: p, bins, only } of segments) {
      const sources = fields.map((f) => p[f] ?? [])
      for (const i of only ?? p.start.keys()) {
        const k = position.get(at + p.start[i]!)!
        points.count[k] = p.count[i]!
        for (let f = 0; f < columns.length; f++) columns[f]![k] = sources[f]![i] ?? null
        if (points.bins) points.bins[k] = bins?.[i] ?? null
      }
    }
    return points
  })
  return { periods: { start: axis, end: axis.map((start) => ends.get(start)!) }, points: out }
}

/** Both ways give the same answer, as JSON (what runs.metrics sends). */
function expectSame(series: Input, withBins: boolean) {
  const want = JSON.stringify(reference(series, withBins))
  // The reference must not have changed the chunks lineUpSeries reads (nor the other way round).
  const got = JSON.stringify(lineUpSeries(series, withBins))
  expect(got).toBe(want)
  expect(JSON.stringify(reference(series, withBins))).toBe(want)
  return JSON.parse(got) as ReturnType<typeof reference>
}

let database: TestDatabase
let db: Db
let runId: string
const START = Date.UTC(2027, 0, 16, 12, 0, 0, 250)

beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url)
  await db.location.create({ data: { id: 'us-east', name: 'US East', region: 'Virginia' } })
  const projectId = (await db.project.create({ data: { name: 'line-up' } })).id
  runId = randomUUID()
  await db.run.create({ data: { id: runId, projectId, script: 's', locationId: 'us-east', trigger: 'api', workflowId: `run-${runId}`, timeoutSeconds: 600, status: 'passed' } })
  // 3 requests a second: the tagged series (one per endpoint) miss periods; 150 periods: three minutes.
  await ingestMetricFrames(db, runId, syntheticFrameFile({ periods: 150, requestsPerSecond: 3, start: START }))
})
afterAll(async () => {
  await db?.$disconnect()
  await database?.drop()
})

/** The stored series (totals or tagged) as runs.metrics reads them for the window [from, to). */
async function storedSegments(which: 'totals' | 'tagged', from = 0, to = Number.MAX_SAFE_INTEGER, metrics: string[] | null = null): Promise<Input> {
  const { rows } = await pgQuery<{ id: string; type: MetricType; chunk_start: string; first_start: string; last_start: string; points: ChunkPoints; bins: (Bins | null)[] | null }>(db, {
    text: `SELECT s.id, s.type, c.chunk_start, c.first_start, c.last_start, c.points, c.bins
             FROM run_metric_series s JOIN run_metric_chunks c ON c.series_id = s.id
            WHERE s.run_id = $1 AND (tags IS NULL AND NOT overflow) = $2 AND c.first_start < $4 AND c.last_end > $3
              AND ($5::text[] IS NULL OR s.metric = ANY($5::text[]))
            ORDER BY s.metric, s.key, c.chunk_start`,
    values: [runId, which === 'totals', from, to, metrics],
  })
  const series = new Map<string, Input[number]>()
  for (const r of rows) {
    let s = series.get(r.id)
    if (!s) series.set(r.id, (s = { type: r.type, segments: [] }))
    const at = Number(r.chunk_start)
    const whole = Number(r.first_start) >= from && Number(r.last_start) < to
    const only = whole ? null : [...r.points.start.keys()].filter((i) => at + r.points.start[i]! < to && at + r.points.end[i]! > from)
    s.segments.push({ at, points: r.points, bins: r.bins, only })
  }
  return [...series.values()]
}

/** A chunk's points as the ingestion writes them, for the periods starting at these seconds of the minute. */
function chunk(type: MetricType, seconds: number[], opts: { end?: (s: number) => number; drop?: string[] } = {}): ChunkPoints {
  const p: ChunkPoints = { start: seconds.map((s) => s * 1000), end: seconds.map((s) => opts.end?.(s) ?? (s + 1) * 1000), count: seconds.map((s) => s + 1) }
  for (const f of POINT_FIELDS[type]) if (!opts.drop?.includes(f)) p[f] = seconds.map((s) => (s % 7 === 3 ? null : s * 1.5 + 0.25))
  return p
}
const bins = (seconds: number[]): (Bins | null)[] => seconds.map((s) => (s % 5 === 0 ? null : { pos: [[s, 1, 2]] }))
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)

describe('lineUpSeries', () => {
  it('gives the answer of the period-by-period way for stored totals, whole or in windows that cut chunks', async () => {
    // Every total (some have no samples in some periods at 3 requests a second), and the totals
    // with samples in every period (the usual shape: the axis is read off the chunks).
    const everyPeriod = ['http_req_duration', 'http_req_failed', 'http_reqs', 'vus', 'vus_max']
    for (const metrics of [null, everyPeriod]) {
      const totals = await storedSegments('totals', 0, Number.MAX_SAFE_INTEGER, metrics)
      expect(totals.length).toBeGreaterThanOrEqual(5)
      const whole = expectSame(totals, false)
      expect(whole.periods.start).toHaveLength(150)
      expect(whole.periods.start[0]).toBe(START)
      if (metrics) expect(whole.points.every((p) => !p.count.includes(0))).toBe(true)
      expectSame(totals, true)
      for (const [from, to] of [
        [START + 30_500, START + 100_000],
        [START + 59_000, START + 61_000],
        [START + 120_000, Number.MAX_SAFE_INTEGER],
        [0, START + 1000],
      ] as const) {
        expectSame(await storedSegments('totals', from, to, metrics), true)
      }
    }
  })

  it('gives the answer of the period-by-period way for tagged series with gaps, and for no series at all', async () => {
    const tagged = await storedSegments('tagged')
    const res = expectSame(tagged, true)
    // Some tagged series have no samples in some periods: placed period by period, count 0 there.
    expect(res.points.some((p) => p.count.includes(0))).toBe(true)
    expectSame(await storedSegments('tagged', START + 45_000, START + 75_000), false)
    expectSame([], false)
    expectSame([{ type: 'counter', segments: [] }], false)
  })

  it('gives the answer of the period-by-period way when series differ from the usual shape', () => {
    const at = Math.floor(START / 60_000) * 60_000
    const all = range(0, 60)
    const some = all.filter((s) => s % 4 !== 1)
    const cases: [string, Input, boolean][] = [
      ['same periods', [{ type: 'trend', segments: [{ at, points: chunk('trend', all), bins: bins(all), only: null }] }, { type: 'gauge', segments: [{ at, points: chunk('gauge', all), bins: null, only: null }] }], true],
      ['a series with fewer periods', [{ type: 'counter', segments: [{ at, points: chunk('counter', all), bins: null, only: null }] }, { type: 'rate', segments: [{ at, points: chunk('rate', some), bins: null, only: null }] }], false],
      ['a series missing a whole minute', [{ type: 'counter', segments: [{ at, points: chunk('counter', all), bins: null, only: null }, { at: at + 60_000, points: chunk('counter', all), bins: null, only: null }] }, { type: 'counter', segments: [{ at: at + 60_000, points: chunk('counter', all), bins: null, only: null }] }], false],
      ['ends that differ (the latest is the axis\')', [{ type: 'counter', segments: [{ at, points: chunk('counter', all), bins: null, only: null }] }, { type: 'counter', segments: [{ at, points: chunk('counter', all, { end: (s) => (s === 59 ? 59_400 : (s + 1) * 1000) }), bins: null, only: null }] }], false],
      ['fields and bins absent', [{ type: 'trend', segments: [{ at, points: chunk('trend', all, { drop: ['p99', 'min'] }), bins: null, only: null }, { at: at + 60_000, points: chunk('trend', all), bins: bins(all), only: null }] }], true],
      ['periods out of order', [{ type: 'counter', segments: [{ at, points: chunk('counter', [3, 1, 2]), bins: null, only: null }] }, { type: 'counter', segments: [{ at, points: chunk('counter', [3, 1, 2]), bins: null, only: null }] }], false],
      ['chunks cut by the window', [{ type: 'trend', segments: [{ at, points: chunk('trend', all), bins: bins(all), only: range(50, 60) }, { at: at + 60_000, points: chunk('trend', all), bins: bins(all), only: range(0, 5) }] }, { type: 'trend', segments: [{ at, points: chunk('trend', all), bins: bins(all), only: range(50, 60) }, { at: at + 60_000, points: chunk('trend', all), bins: bins(all), only: range(0, 5) }] }], true],
      ['cut differently per series', [{ type: 'gauge', segments: [{ at, points: chunk('gauge', all), bins: null, only: range(50, 60) }] }, { type: 'gauge', segments: [{ at, points: chunk('gauge', some), bins: null, only: [40, 41, 42] }] }], false],
    ]
    for (const [name, input, withBins] of cases) {
      expect(() => expectSame(input, withBins), name).not.toThrow()
    }
  })
})
