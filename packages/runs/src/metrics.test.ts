// Storing a run's metric frames on a real database: a multi-minute file (synthetic, and one
// written by Stampede's k6), stored once however often it is ingested, a damaged file stored as
// far as it reads, and attachArtifacts reading the `metrics` artifact from storage.
import { randomUUID } from 'node:crypto'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, pgQuery, type Db } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import { mergeFrames, parseFrames, quantile, type Frame } from '@stampede/k6-output'
import { ArtifactNotFoundError, type Storage } from '@stampede/storage'
import { resolveTool } from '@stampede/tools'
import { syntheticFrames } from './frames-fixture.ts'
import { CHUNK_MS, FrameSourceError, ingestMetricFrames, roundTo, storedSeriesKey, type ChunkPoints } from './metrics.ts'
import { createPersistenceActivities } from './result.ts'

let database: TestDatabase
let db: Db
let projectId: string
const PERIODS = 150
const frames: Frame[] = [...syntheticFrames({ periods: PERIODS, requestsPerSecond: 30 })]
const ndjson = (fs: Frame[]): string => fs.map((f) => JSON.stringify(f) + '\n').join('')
const file = gzipSync(ndjson(frames))

beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url)
  await db.location.create({ data: { id: 'us-east', name: 'US East', region: 'Virginia' } })
  projectId = (await db.project.create({ data: { name: 'frames' } })).id
})
afterAll(async () => {
  await db?.$disconnect()
  await database?.drop()
})

async function newRun(artifacts?: object): Promise<string> {
  const id = randomUUID()
  await db.run.create({ data: { id, projectId, script: 's', locationId: 'us-east', trigger: 'api', workflowId: `run-${id}`, timeoutSeconds: 600, status: 'passed', ...(artifacts ? { artifacts } : {}) } })
  return id
}

/** Every stored chunk of a run, as rows comparable between two ingestions (ids left out). */
async function storedRows(runId: string) {
  const { rows } = await pgQuery<{ key: string; chunk_start: string; periods: number; points: ChunkPoints; total: unknown; bins: unknown }>(db, {
    text: `SELECT s.key, c.chunk_start, c.periods, c.points, c.total, c.bins FROM run_metric_chunks c JOIN run_metric_series s ON s.id = c.series_id
            WHERE s.run_id = $1 ORDER BY s.key, c.chunk_start`,
    values: [runId],
  })
  return rows
}

describe('ingestMetricFrames', () => {
  it('stores every series of a multi-minute file as one row per series and minute, period by period', async () => {
    const runId = await newRun()
    const result = await ingestMetricFrames(db, runId, file)
    const keys = new Set(frames.flatMap((f) => f.series.map(storedSeriesKey)))
    expect(result).toEqual({ frames: PERIODS, series: keys.size, chunks: expect.any(Number), final: true })
    const head = await db.runMetrics.findUniqueOrThrow({ where: { runId } })
    expect(head).toMatchObject({ periods: PERIODS, startMs: BigInt(frames[0]!.start), endMs: BigInt(frames.at(-1)!.end), final: true, complete: true, problem: null, gamma: frames[0]!.mapping.gamma })

    const rows = await storedRows(runId)
    expect(rows).toHaveLength(result.chunks)
    // 12:00:00.250 + 150 periods: minutes 12:00, 12:01, 12:02.
    expect(new Set(rows.map((r) => Number(r.chunk_start)))).toEqual(new Set([0, 1, 2].map((m) => Math.floor(frames[0]!.start / CHUNK_MS) * CHUNK_MS + m * CHUNK_MS)))
    const duration = rows.filter((r) => r.key === storedSeriesKey({ metric: 'http_req_duration' }))
    expect(duration.map((r) => r.periods)).toEqual([60, 60, 30])
    // Times are kept from the minute's start; quantiles with 6 significant digits.
    const points = duration.flatMap((r) => r.points.start.map((start, i) => ({ start: Number(r.chunk_start) + start, end: Number(r.chunk_start) + r.points.end[i]!, count: r.points.count[i], max: r.points.max![i], p95: r.points.p95![i] })))
    const gamma = frames[0]!.mapping.gamma
    expect(points).toEqual(
      frames.map((f) => {
        const s = mergeFrames([f]).series.get('http_req_duration')!
        return { start: f.start, end: f.end, count: s.count, max: s.max, p95: roundTo(quantile(s, gamma, 0.95)!, 6) }
      }),
    )
    // A minute's total is the minute merged.
    const minute = mergeFrames(frames.filter((f) => Math.floor(f.start / CHUNK_MS) * CHUNK_MS === Number(duration[1]!.chunk_start))).series.get('http_req_duration')!
    expect(duration[1]!.total).toMatchObject({ count: minute.count, min: minute.min, max: minute.max })
  })

  it('stores a file once however often it is ingested, and finishes what an interrupted attempt began', async () => {
    const runId = await newRun()
    const first = await ingestMetricFrames(db, runId, file, { batchRows: 7 })
    const rows = await storedRows(runId)
    // Again: nothing is read.
    expect(await ingestMetricFrames(db, runId, file)).toMatchObject({ alreadyStored: true, frames: PERIODS, chunks: first.chunks })
    // An attempt that stopped part-way: the last minute and the flag are missing.
    await pgQuery(db, { text: 'UPDATE run_metrics SET complete = false WHERE run_id = $1', values: [runId] })
    await pgQuery(db, { text: 'DELETE FROM run_metric_chunks c USING run_metric_series s WHERE s.id = c.series_id AND s.run_id = $1 AND c.chunk_start = (SELECT max(chunk_start) FROM run_metric_chunks)', values: [runId] })
    expect((await storedRows(runId)).length).toBeLessThan(rows.length)
    const again = await ingestMetricFrames(db, runId, Readable.from([file.subarray(0, 1000), file.subarray(1000)]))
    expect(again).toEqual(first)
    expect(await storedRows(runId)).toEqual(rows)
  })

  it('stores series whose tags are longer than an index entry may be, once however often it is ingested', async () => {
    // A script's tag values can be kilobytes long (a URL, a check's name; here 4,000 three-byte
    // characters): the series' key would pass Postgres's limit on an index entry (about 2.7 KB).
    const long = { name: 'é'.repeat(4000), method: 'GET' }
    const tagged = frames.slice(0, 5).map((f) => ({ ...f, series: f.series.map((x) => (x.metric === 'http_req_duration' && x.tags ? { ...x, tags: long } : x)) }))
    const runId = await newRun()
    const result = await ingestMetricFrames(db, runId, gzipSync(ndjson(tagged)))
    expect(result).toMatchObject({ frames: 5, final: false })
    expect(result.problem).toBeUndefined()
    const { rows } = await pgQuery<{ key: string; tags: Record<string, string> }>(db, { text: "SELECT key, tags FROM run_metric_series WHERE run_id = $1 AND tags->>'method' = 'GET' AND metric = 'http_req_duration'", values: [runId] })
    expect(rows).toEqual([{ key: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), tags: long }])
    const stored = await storedRows(runId)
    expect(await ingestMetricFrames(db, runId, gzipSync(ndjson(tagged)))).toMatchObject({ alreadyStored: true })
    expect(await storedRows(runId)).toEqual(stored)
  })

  it('stores what a damaged file holds and says what it could not read, without throwing', async () => {
    // Cut in the middle of the gzip stream.
    const cutRun = await newRun()
    const cut = await ingestMetricFrames(db, cutRun, file.subarray(0, Math.floor(file.length * 0.6)))
    expect(cut.problem).toMatch(/^metric frames: the file is damaged \(gzip: unexpected end of file\); the frames before the damage are stored$/)
    expect(cut.frames).toBeGreaterThan(30)
    expect(cut.frames).toBeLessThan(PERIODS)
    expect(cut.final).toBe(false)
    expect(await db.runMetrics.findUniqueOrThrow({ where: { runId: cutRun } })).toMatchObject({ complete: true, final: false, problem: cut.problem })

    // Lines that are not frames, and a last line without its newline (a frame being written).
    const lines = ndjson(frames).split('\n')
    lines.splice(10, 0, '{"v":1,"seq":')
    lines.splice(20, 0, '{"v":2,"seq":1,"start":1,"end":2,"mapping":{"kind":"log","gamma":1.008},"series":[]}')
    const badRun = await newRun()
    const bad = await ingestMetricFrames(db, badRun, gzipSync(lines.join('\n') + '{"v":1'))
    expect(bad.frames).toBe(PERIODS)
    expect(bad.problem).toMatch(/^metric frames: 2 lines are not a frame and were skipped \(line 11: not JSON .*; line 21: version 2, want 1\)$/)

    // Not gzip at all.
    const plain = await ingestMetricFrames(db, await newRun(), Buffer.from(ndjson(frames)))
    expect(plain).toMatchObject({ frames: 0, series: 0, chunks: 0 })
    expect(plain.problem).toMatch(/the file is damaged \(gzip: incorrect header check\)/)
  })

  it('throws a retryable error when the source stream fails, and stores nothing for an unknown run', async () => {
    const runId = await newRun()
    const failing = new Readable({
      read() {
        this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      },
    })
    await expect(ingestMetricFrames(db, runId, failing)).rejects.toBeInstanceOf(FrameSourceError)
    expect(await ingestMetricFrames(db, randomUUID(), file)).toMatchObject({ frames: 0, problem: expect.stringMatching(/does not exist/) })
  })

  it('is removed with its run', async () => {
    const runId = await newRun()
    await ingestMetricFrames(db, runId, file)
    await db.run.delete({ where: { id: runId } })
    expect(await storedRows(runId)).toEqual([])
    const { rows } = await pgQuery(db, { text: 'SELECT 1 FROM run_metric_series WHERE run_id = $1', values: [runId] })
    expect(rows).toEqual([])
  })

  it('stores the frames Stampede\'s k6 writes, with totals equal to the reader\'s merge', async () => {
    const k6 = (await resolveTool('k6')).path
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-frames-'))
    const server = http.createServer((req, res) => setTimeout(() => res.end('ok'), req.url === '/slow' ? 30 : 2))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      await writeFile(
        path.join(dir, 'script.js'),
        `import http from 'k6/http'; import { check } from 'k6'
export const options = { vus: 3, duration: '2s' }
export default function () { check(http.get('${base}/slow'), { ok: (r) => r.status === 200 }); http.get('${base}/fast') }`,
      )
      const out = path.join(dir, 'frames.ndjson')
      const child = spawn(k6, ['run', '--quiet', '--summary-mode=disabled', '--out', `stampede=${out}`, path.join(dir, 'script.js')], { stdio: 'ignore' })
      expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0)
      const text = await readFile(out, 'utf8')
      const real = parseFrames(text)
      const runId = await newRun()
      const result = await ingestMetricFrames(db, runId, gzipSync(text))
      expect(result).toMatchObject({ frames: real.length, final: true })
      expect(result.problem).toBeUndefined()
      const merged = mergeFrames(real)
      const rows = await storedRows(runId)
      for (const [metric, field] of [['http_reqs', 'sum'], ['http_req_duration', 'max'], ['checks', 'passes']] as const) {
        const stored = rows.filter((r) => r.key === storedSeriesKey({ metric }))
        expect(stored.length).toBeGreaterThan(0)
        const parts = stored.flatMap((r) => r.points[field] as number[])
        const combined = field === 'max' ? Math.max(...parts) : parts.reduce((a, b) => a + b, 0)
        expect(combined).toBe(merged.series.get(metric)![field])
      }
    } finally {
      server.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('attachArtifacts and the metric frames', () => {
  /** A storage holding some keys' bytes. */
  function storageWith(objects: Record<string, Buffer>): Storage {
    const get = (key: string): Buffer => {
      const bytes = objects[key]
      if (!bytes) throw new ArtifactNotFoundError(key)
      return bytes
    }
    return {
      getBytes: async (key: string) => get(key),
      getStream: async (key: string) => ({ body: Readable.from([get(key)]) }),
    } as unknown as Storage
  }
  const record = (key: string) => ({ key, bytes: 1, sha256: 'a'.repeat(64) })

  it('stores the frames of an attached metrics.ndjson.gz, once, and never reads an older run\'s metrics.json.gz', async () => {
    const runId = await newRun()
    const key = `runs/${runId}/metrics.ndjson.gz`
    const { attachArtifacts } = createPersistenceActivities({ db, storage: storageWith({ [key]: file }) })
    await attachArtifacts({ runId, artifacts: { metrics: record(key) } })
    expect(await db.runMetrics.findUniqueOrThrow({ where: { runId } })).toMatchObject({ periods: PERIODS, complete: true })
    const rows = await storedRows(runId)
    await attachArtifacts({ runId, artifacts: { metrics: record(key) } })
    expect(await storedRows(runId)).toEqual(rows)
    expect(await db.run.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({ errorMessage: null, metricsNote: null })

    // k6's per-sample JSON under the old name: attached, never read (the storage would throw).
    const old = await newRun()
    await createPersistenceActivities({ db, storage: storageWith({}) }).attachArtifacts({ runId: old, artifacts: { metrics: { key: `runs/${old}/metrics.json.gz`, bytes: 1, sha256: 'a'.repeat(64) } } })
    expect(await db.runMetrics.findUnique({ where: { runId: old } })).toBeNull()
  })

  it('keeps a note with the run when the frames are damaged or missing, and attaches the artifacts all the same', async () => {
    const runId = await newRun()
    const key = `runs/${runId}/metrics.ndjson.gz`
    const { attachArtifacts } = createPersistenceActivities({ db, storage: storageWith({ [key]: file.subarray(0, file.length >> 1) }) })
    await attachArtifacts({ runId, artifacts: { metrics: record(key) } })
    await attachArtifacts({ runId, artifacts: { metrics: record(key) } })
    const run = await db.run.findUniqueOrThrow({ where: { id: runId } })
    expect(run.artifacts).toEqual({ metrics: record(key) })
    // Once, however often the attach is retried, and as a note: the run passed, it has no error.
    expect(run.metricsNote).toMatch(/^metric frames: the file is damaged \(gzip: unexpected end of file\); the frames before the damage are stored$/)
    expect(run.errorMessage).toBeNull()

    const missing = await newRun()
    const missingKey = `runs/${missing}/metrics.ndjson.gz`
    await createPersistenceActivities({ db, storage: storageWith({}) }).attachArtifacts({ runId: missing, artifacts: { metrics: record(missingKey) } })
    expect(await db.run.findUniqueOrThrow({ where: { id: missing } })).toMatchObject({ errorMessage: null, metricsNote: expect.stringMatching(/^metric frames: the file is not in storage/) })
  })
})
