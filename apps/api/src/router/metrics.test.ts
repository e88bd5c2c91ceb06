// runs.metrics on a real database: a run's frames stored by the ingestion the runner uses, read
// back through the router with each filter, compared with the k6-output reader's own merge of
// the same frames; its errors (never a 500) and who may read.
import { randomUUID } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { TRPCError } from '@trpc/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import { mergeFrames, quantile, seriesKey, type Frame } from '@stampede/k6-output'
import { ingestMetricFrames, roundTo } from '@stampede/runs/metrics'
import { syntheticFrames } from '@stampede/runs/frames-fixture'
import { newApiToken } from '../auth/secrets.ts'
import { tokenCaller, type Caller } from './test-caller.ts'

let database: TestDatabase
let db: Db
let admin: Caller
let reader: Caller
let otherReader: Caller
let runId: string
let bare: { running: string; old: string; none: string }
// 150 periods from 12:00:00.250: minutes 12:00, 12:01 and 12:02 (30 periods).
const PERIODS = 150
const frames: Frame[] = [...syntheticFrames({ periods: PERIODS, requestsPerSecond: 40 })]

async function callerWithToken(projectId: string, scope: 'read' | 'admin'): Promise<Caller> {
  const { token, prefix, hash } = newApiToken()
  await db.apiToken.create({ data: { projectId, name: `${scope} ${randomUUID()}`, scope, prefix, hash } })
  return tokenCaller(db, token)
}

async function makeRun(projectId: string, data: { status?: 'running' | 'passed'; artifacts?: object } = {}): Promise<string> {
  const id = randomUUID()
  await db.run.create({ data: { id, projectId, script: 's', locationId: 'us-east', trigger: 'api', workflowId: `run-${id}`, timeoutSeconds: 600, status: data.status ?? 'passed', ...(data.artifacts ? { artifacts: data.artifacts } : {}) } })
  return id
}

beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url)
  await db.location.create({ data: { id: 'us-east', name: 'US East', region: 'Virginia' } })
  const project = await db.project.create({ data: { name: 'metrics' } })
  const other = await db.project.create({ data: { name: 'other' } })
  admin = await callerWithToken(project.id, 'admin')
  reader = await callerWithToken(project.id, 'read')
  otherReader = await callerWithToken(other.id, 'read')
  runId = await makeRun(project.id, { artifacts: { metrics: { key: 'x/metrics.ndjson.gz', bytes: 1, sha256: 'a'.repeat(64) } } })
  const stored = await ingestMetricFrames(db, runId, gzipSync(frames.map((f) => JSON.stringify(f) + '\n').join('')))
  expect(stored).toMatchObject({ frames: PERIODS, final: true })
  bare = {
    running: await makeRun(project.id, { status: 'running' }),
    old: await makeRun(project.id, { artifacts: { metrics: { key: 'runs/x/metrics.json.gz', bytes: 1, sha256: 'a'.repeat(64) } } }),
    none: await makeRun(project.id),
  }
}, 120_000)

afterAll(async () => {
  await db?.$disconnect()
  await database?.drop()
})

/** Quantiles come with 6 significant digits (they are within 0.4 % anyway). */
const q6 = (v: number | undefined) => (v === undefined ? null : roundTo(v, 6))

/** The reader's merge of the frames overlapping [from, to). */
function expected(from = 0, to = Infinity) {
  const inWindow = frames.filter((f) => f.start < to && f.end > from)
  return { frames: inWindow, merged: mergeFrames(inWindow) }
}

async function rejection(p: Promise<unknown>): Promise<TRPCError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(TRPCError)
  return err as TRPCError
}

describe('runs.metrics', () => {
  it('returns every metric\'s total series by default, period by period, with window totals equal to the reader\'s merge', async () => {
    const res = await reader.runs.metrics({ runId })
    expect(res).toMatchObject({ runId, reason: null, complete: true, problem: null, frames: { periods: PERIODS, start: frames[0]!.start, end: frames.at(-1)!.end, final: true } })
    const totals = new Set(frames.flatMap((f) => f.series.filter((s) => !s.tags && !s.overflow).map((s) => s.metric)))
    expect(res.series.map((s) => s.metric).sort()).toEqual([...totals].sort())
    expect(res.series.every((s) => s.tags === null && !s.overflow)).toBe(true)

    const { merged } = expected()
    const gamma = frames[0]!.mapping.gamma
    const reqs = res.series.find((s) => s.metric === 'http_reqs')!
    // One time axis for every series: here every period, as every total has samples in each.
    expect(res.periods.start).toEqual(frames.map((f) => f.start))
    expect(res.periods.end).toEqual(frames.map((f) => f.end))
    expect(reqs.points.sum).toEqual(frames.map((f) => f.series.find((s) => s.metric === 'http_reqs' && !s.tags)!.sum))
    expect(reqs.total).toEqual({ count: merged.series.get('http_reqs')!.count, sum: merged.series.get('http_reqs')!.sum })

    const duration = res.series.find((s) => s.metric === 'http_req_duration')!
    const m = merged.series.get('http_req_duration')!
    expect(duration.type).toBe('trend')
    expect(duration.total.count).toBe(m.count)
    expect(duration.total.sum).toBeCloseTo(m.sum!, 6)
    expect(duration.total.min).toBe(m.min)
    expect(duration.total.max).toBe(m.max)
    for (const [name, q] of [['p50', 0.5], ['p90', 0.9], ['p95', 0.95], ['p99', 0.99]] as const) expect(duration.total[name]).toBe(q6(quantile(m, gamma, q)))
    // Per period: p95 of that period's bins; no bins unless asked.
    for (const i of [0, 59, 60, 149]) {
      const one = mergeFrames([frames[i]!]).series.get('http_req_duration')!
      expect(duration.points.p95![i]).toBe(q6(quantile(one, gamma, 0.95)))
      expect(duration.points.count[i]).toBe(one.count)
    }
    expect(duration.points.bins).toBeUndefined()

    const failed = res.series.find((s) => s.metric === 'http_req_failed')!
    const f = merged.series.get('http_req_failed')!
    expect(failed.total).toEqual({ count: f.count, passes: f.passes, rate: f.passes! / f.count })
    const vus = res.series.find((s) => s.metric === 'vus')!
    expect(vus.points.last).toEqual(frames.map((fr) => fr.series.find((s) => s.metric === 'vus')!.last))
    expect(vus.total).toMatchObject({ min: 1, max: 50, last: 50 })
  })

  it('selects metrics, tagged series by tags, or every tagged series of a metric', async () => {
    const named = await reader.runs.metrics({ runId, metrics: ['http_reqs', 'vus', 'no_such_metric'] })
    expect(named.series.map((s) => s.metric)).toEqual(['http_reqs', 'vus'])

    const notFound = await reader.runs.metrics({ runId, metrics: ['http_req_duration'], tags: { status: '404' } })
    expect(notFound.series).toHaveLength(1)
    const s404 = notFound.series[0]!
    expect(s404.tags).toMatchObject({ status: '404', expected_response: 'false', method: 'GET' })
    const m404 = expected().merged.series.get(seriesKey({ metric: 'http_req_duration', tags: s404.tags! }))!
    expect(s404.total.count).toBe(m404.count)
    expect(s404.total.p95).toBe(q6(quantile(m404, frames[0]!.mapping.gamma, 0.95)))

    const tagged = await reader.runs.metrics({ runId, metrics: ['http_reqs'], tagged: true })
    const expectedTagged = new Set(frames.flatMap((f) => f.series.filter((s) => s.metric === 'http_reqs' && s.tags).map((s) => seriesKey(s))))
    expect(tagged.series).toHaveLength(expectedTagged.size)
    expect(tagged.series.every((s) => s.tags !== null)).toBe(true)
    expect(tagged.series.reduce((n, s) => n + s.total.sum!, 0)).toBe(expected().merged.series.get('http_reqs')!.sum)

    // Tags narrow the tagged series of every metric when no metric is named.
    const byCheck = await reader.runs.metrics({ runId, tags: { check: 'status is 2xx' } })
    expect(byCheck.series.map((s) => s.metric)).toEqual(['checks'])
  })

  it('returns only the periods overlapping [from, to), across minute boundaries, with totals of that window', async () => {
    const from = frames[50]!.start + 10
    const to = frames[125]!.start
    const res = await reader.runs.metrics({ runId, metrics: ['http_req_duration', 'http_reqs'], from, to })
    const { frames: inWindow, merged } = expected(from, to)
    expect(inWindow).toHaveLength(75)
    const duration = res.series.find((s) => s.metric === 'http_req_duration')!
    expect(res.periods.start).toEqual(inWindow.map((f) => f.start))
    const m = merged.series.get('http_req_duration')!
    expect(duration.total.count).toBe(m.count)
    expect(duration.total.p95).toBe(q6(quantile(m, frames[0]!.mapping.gamma, 0.95)))
    expect(duration.total.p99).toBe(q6(quantile(m, frames[0]!.mapping.gamma, 0.99)))
    expect(res.series.find((s) => s.metric === 'http_reqs')!.total.sum).toBe(merged.series.get('http_reqs')!.sum)

    // A window of whole minutes; an empty one.
    const minute = await reader.runs.metrics({ runId, metrics: ['http_reqs'], from: frames[60]!.start, to: frames[120]!.start })
    expect(minute.series[0]!.points.count).toHaveLength(60)
    const none = await reader.runs.metrics({ runId, metrics: ['http_reqs'], from: 1, to: 2 })
    expect(none.periods.start).toEqual([])
    expect(none.series[0]!.points.count).toEqual([])
    expect(none.series[0]!.total).toEqual({ count: 0, sum: 0 })
  })

  it('aligns a series without samples in some periods with the axis: count 0, other fields null', async () => {
    // vus only in even periods, across a minute boundary.
    const some = frames.slice(50, 70).map((f) => ({ ...f, series: f.series.filter((s) => s.metric !== 'vus' || f.seq % 2 === 0) }))
    const sparseRun = await makeRun((await db.run.findUniqueOrThrow({ where: { id: runId } })).projectId)
    await ingestMetricFrames(db, sparseRun, gzipSync(some.map((f) => JSON.stringify(f) + '\n').join('')))
    const res = await reader.runs.metrics({ runId: sparseRun, metrics: ['vus', 'http_reqs'], bins: true })
    expect(res.periods.start).toEqual(some.map((f) => f.start))
    const vus = res.series.find((s) => s.metric === 'vus')!
    expect(vus.points.count).toEqual(some.map((f) => (f.seq % 2 === 0 ? 1 : 0)))
    expect(vus.points.last).toEqual(some.map((f) => (f.seq % 2 === 0 ? f.series.find((s) => s.metric === 'vus')!.last : null)))
    expect(vus.total.count).toBe(10)
    expect(res.series.find((s) => s.metric === 'http_reqs')!.points.count).toHaveLength(20)
    // Only vus in the odd periods' window: an axis of its own periods.
    const odd = await reader.runs.metrics({ runId: sparseRun, metrics: ['vus'], from: some[1]!.start, to: some[6]!.start })
    expect(odd.periods.start).toEqual([some[2]!.start, some[4]!.start])
  })

  it('returns each period\'s trend bins when asked', async () => {
    const res = await reader.runs.metrics({ runId, metrics: ['http_req_duration', 'http_reqs'], from: frames[58]!.start, to: frames[62]!.start, bins: true })
    const duration = res.series.find((s) => s.metric === 'http_req_duration')!
    expect(duration.points.bins).toEqual(frames.slice(58, 62).map((f) => f.series.find((s) => s.metric === 'http_req_duration' && !s.tags)!.bins))
    expect(res.series.find((s) => s.metric === 'http_reqs')!.points.bins).toBeUndefined()
  })

  it('says why a run has no frames', async () => {
    expect(await reader.runs.metrics({ runId: bare.running })).toMatchObject({ reason: expect.stringContaining('still running'), series: [], frames: null })
    expect((await reader.runs.metrics({ runId: bare.old })).reason).toMatch(/ran before Stampede's metric frames/)
    expect((await reader.runs.metrics({ runId: bare.none })).reason).toMatch(/has no metric frames/)
  })

  it('refuses bad input with the field named, an unknown run and another project\'s reader with NOT_FOUND', async () => {
    const backwards = await rejection(reader.runs.metrics({ runId, from: 2000, to: 1000 }))
    expect(backwards.code).toBe('BAD_REQUEST')
    // The caller sees zod's issues; over HTTP the error formatter names the field (`from: must not be after to …`).
    expect(backwards.message).toMatch(/"path": \[\s*"from"\s*\][\s\S]*must not be after to/)
    const many = await rejection(reader.runs.metrics({ runId, metrics: Array.from({ length: 51 }, (_, i) => `m${i}`) }))
    expect(many.code).toBe('BAD_REQUEST')
    expect(many.message).toMatch(/at most 50 metrics/)
    const tag = await rejection(reader.runs.metrics({ runId, tags: { url: 'x' } }))
    expect(tag.code).toBe('BAD_REQUEST')
    expect(tag.message).toMatch(/not a tag frames keep/)
    const negative = await rejection(reader.runs.metrics({ runId, from: -5 }))
    expect(negative.code).toBe('BAD_REQUEST')

    const unknown = await rejection(reader.runs.metrics({ runId: randomUUID() }))
    expect(unknown.code).toBe('NOT_FOUND')
    const foreign = await rejection(otherReader.runs.metrics({ runId }))
    expect(foreign.code).toBe('NOT_FOUND')
    expect(foreign.message).toBe(`run ${runId} does not exist`)
    expect((await admin.runs.metrics({ runId, metrics: ['vus'] })).series).toHaveLength(1)
  })
})
