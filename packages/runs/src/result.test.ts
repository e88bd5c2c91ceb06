// A run's result and the notes that come after it, on a real database: what could not be stored
// of the metric frames is a note (metricsNote) whatever the run's status; errorMessage says only
// why a run failed or errored (and why its artifacts could not be stored).
import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import { ArtifactNotFoundError, type Storage } from '@stampede/storage'
import type { K6Outcome } from '@stampede/shared/temporal'
import { syntheticFrameFile } from './frames-fixture.ts'
import { createPersistenceActivities } from './result.ts'

let database: TestDatabase
let db: Db
let projectId: string

beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url)
  await db.location.create({ data: { id: 'us-east', name: 'US East', region: 'Virginia' } })
  projectId = (await db.project.create({ data: { name: 'results' } })).id
})
afterAll(async () => {
  await db?.$disconnect()
  await database?.drop()
})

/** A storage holding some keys' bytes. */
function storageWith(objects: Record<string, Buffer>): Storage {
  const get = (key: string): Buffer => {
    const bytes = objects[key]
    if (!bytes) throw new ArtifactNotFoundError(key)
    return bytes
  }
  return { getBytes: async (key: string) => get(key), getStream: async (key: string) => ({ body: Readable.from([get(key)]) }) } as unknown as Storage
}

const record = (key: string) => ({ key, bytes: 1, sha256: 'a'.repeat(64) })
const file = syntheticFrameFile({ periods: 5 })
/** The frames cut in the middle of their gzip stream. */
const damaged = file.subarray(0, file.length >> 1)

/** A run k6 ran and ended with these thresholds (spooled: its artifacts come later). */
async function ranRun(thresholds: { ok: boolean }[]): Promise<string> {
  const id = randomUUID()
  await db.run.create({ data: { id, projectId, script: 's', locationId: 'us-east', trigger: 'api', workflowId: `run-${id}`, timeoutSeconds: 600, status: 'running', startedAt: new Date() } })
  const outcome: K6Outcome = {
    exitCode: thresholds.every((t) => t.ok) ? 0 : 99,
    signal: null,
    reason: 'exited',
    startedAt: new Date(Date.now() - 5000).toISOString(),
    finishedAt: new Date().toISOString(),
    consoleLines: 3,
    errorText: null,
    result: { metrics: { httpReqs: 10, dataSent: null, dataReceived: null }, thresholds: thresholds.map((t) => ({ metric: 'http_req_duration', expression: 'p(95)<100', ok: t.ok })), problem: null },
    runner: 'runner-1',
  }
  await createPersistenceActivities({ db, storage: storageWith({}) }).recordRunResult({ kind: 'completed', runId: id, outcome })
  return id
}

describe('attachArtifacts with metric frames it cannot store whole', () => {
  it('leaves a passed run without an error: the frames\' problem is its metrics note', async () => {
    const runId = await ranRun([{ ok: true }])
    const key = `runs/${runId}/metrics.ndjson.gz`
    const { attachArtifacts } = createPersistenceActivities({ db, storage: storageWith({ [key]: damaged }) })
    await attachArtifacts({ runId, artifacts: { metrics: record(key) } })
    await attachArtifacts({ runId, artifacts: { metrics: record(key) } })
    const run = await db.run.findUniqueOrThrow({ where: { id: runId } })
    expect(run).toMatchObject({ status: 'passed', errorMessage: null, artifactsPending: false, artifacts: { metrics: record(key) } })
    expect(run.metricsNote).toMatch(/^metric frames: the file is damaged \(gzip: unexpected end of file\); the frames before the damage are stored$/)
  })

  it('keeps a failed run\'s error as it was, and the note beside it', async () => {
    const runId = await ranRun([{ ok: false }])
    const before = await db.run.findUniqueOrThrow({ where: { id: runId } })
    expect(before).toMatchObject({ status: 'failed', errorMessage: "thresholds crossed: http_req_duration 'p(95)<100'", metricsNote: null })
    const key = `runs/${runId}/metrics.ndjson.gz`
    // The frames are not in storage at all.
    await createPersistenceActivities({ db, storage: storageWith({}) }).attachArtifacts({ runId, artifacts: { metrics: record(key) } })
    const run = await db.run.findUniqueOrThrow({ where: { id: runId } })
    expect(run.errorMessage).toBe(before.errorMessage)
    expect(run.metricsNote).toMatch(/^metric frames: the file is not in storage/)
  })

  it('keeps a storage problem with the run\'s error, and writes no note when the frames are whole', async () => {
    const runId = await ranRun([{ ok: true }])
    const key = `runs/${runId}/metrics.ndjson.gz`
    const problem = 'the run\'s artifacts could not be stored within 10 min (S3 down); they stay on the runner (runner-1) and are stored when it starts again'
    await createPersistenceActivities({ db, storage: storageWith({ [key]: file }) }).attachArtifacts({ runId, artifacts: { metrics: record(key) }, problem })
    expect(await db.run.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({ status: 'passed', errorMessage: problem, metricsNote: null })
    expect(await db.runMetrics.findUniqueOrThrow({ where: { runId } })).toMatchObject({ periods: 5, complete: true, problem: null })
  })
})
