// The long lists on a real database: runs.list, audit.list and jobs.history page with a cursor
// through every row exactly once in (time desc, id desc) order, ties in time included, for every filter;
// runs.list returns exactly the DTO of each whole row although it reads only the columns it
// returns; tests.list gives each test its newest run.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db, type Run } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import { newApiToken } from '../auth/secrets.ts'
import { toRunDto } from '../runs/dto.ts'
import { tokenCaller, type Caller } from './test-caller.ts'

const LOCATIONS = ['us-east', 'eu-central', 'asia-pacific']
const STATUSES = ['queued', 'running', 'passed', 'failed', 'error', 'cancelled', 'timed_out'] as const

let database: TestDatabase
let db: Db
let caller: Caller
/** The runs.list test's token, for a caller with another presence. */
let listToken: string
let projectId: string
let testIds: string[]
let emptyTestId: string
let runs: Run[]
let jobId: string

/** Newest first, ties in time by id, as the lists order (Postgres compares UUIDs as their hex text does). */
const newestFirst = <T extends { id: string }>(at: (row: T) => Date) => (a: T, b: T) => at(b).getTime() - at(a).getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url)
  for (const id of LOCATIONS) await db.location.create({ data: { id, name: id, region: id } })
  const project = await db.project.create({ data: { name: 'lists' } })
  projectId = project.id
  const other = await db.project.create({ data: { name: 'other' } })
  const { token, prefix, hash } = newApiToken()
  await db.apiToken.create({ data: { projectId, name: 'lists', scope: 'admin', prefix, hash } })
  testIds = []
  for (let i = 0; i < 3; i++) testIds.push((await db.test.create({ data: { projectId, name: `t${i}`, script: 'export default function () {}' } })).id)
  emptyTestId = (await db.test.create({ data: { projectId, name: 'no runs', script: 'export default function () {}' } })).id

  // 90 runs over 30 instants (3 per instant: ties in created_at), every status, location and
  // test, a summary and a script the list never returns; and runs of another project.
  const base = Date.UTC(2026, 10, 1)
  const data = Array.from({ length: 90 }, (_, i) => {
    const id = randomUUID()
    const status = STATUSES[i % STATUSES.length]!
    const finished = !['queued', 'running'].includes(status)
    return {
      id,
      projectId,
      testId: i % 4 === 3 ? null : testIds[i % 3]!,
      script: `export default function () { /* run ${i} */ }`,
      locationId: LOCATIONS[i % LOCATIONS.length]!,
      trigger: 'api' as const,
      status,
      workflowId: `run-${id}`,
      createdAt: new Date(base + Math.floor(i / 3) * 60_000),
      timeoutSeconds: 600,
      rawSamples: i % 5 === 0,
      ...(finished
        ? {
            finishedAt: new Date(base + Math.floor(i / 3) * 60_000 + 30_000),
            durationMs: 30_000,
            exitCode: status === 'failed' ? 99 : 0,
            thresholds: [{ metric: 'http_req_duration', expression: 'p(95)<500', ok: status !== 'failed' }],
            httpReqs: i * 10,
            httpReqDurationP95: i + 0.5,
            dataSent: BigInt(i) * 1000n,
            artifacts: { summary: { key: `runs/${id}/summary.json`, bytes: 10, sha256: 'a'.repeat(64) } },
            summary: { metrics: { http_reqs: { count: i * 10 } } },
          }
        : {}),
    }
  })
  await db.run.createMany({ data })
  // Values whose text form differs from the JSON the API answers with (runs.list reads every
  // column as Postgres's text): whole-second and sub-second times, floats needing 17 digits or an
  // exponent, an int8 past 2^53, a job, artifacts the schema refuses, thresholds that are no list.
  const edges = [
    { createdAt: new Date(base + 5 * 60_000), startedAt: new Date(base + 5 * 60_000 + 7), httpReqDurationAvg: 0.1 + 0.2, httpReqRate: 1.5e21, dataSent: 2n ** 60n + 1n, artifacts: { summary: { key: 'k' } } },
    { createdAt: new Date(base + 5 * 60_000 + 1), httpReqDurationMin: 1e-7, httpReqFailedRate: 0, thresholds: { not: 'a list' }, errorMessage: 'quote " backslash \\ and ü', metricsNote: 'metric frames: ü \\ "', jobId: 'job-1' },
    { createdAt: new Date(base + 17 * 60_000 + 999), finishedAt: new Date(base + 17 * 60_000 + 30_000), exitCode: 0, artifacts: { summary: { key: 'k', bytes: 1, sha256: 's', extra: true }, other: { key: 'k', bytes: 1, sha256: 's' } } },
  ]
  await db.run.createMany({
    data: edges.map((e, i) => {
      const id = randomUUID()
      return { id, projectId, testId: testIds[1]!, script: 's', locationId: 'eu-central', trigger: 'schedule' as const, status: 'failed' as const, workflowId: `run-${id}`, timeoutSeconds: 60 + i, ...e }
    }),
  })
  await db.run.create({ data: { projectId: other.id, script: 's', locationId: 'us-east', trigger: 'api', workflowId: 'run-other', timeoutSeconds: 600 } })
  runs = await db.run.findMany({ where: { projectId } })

  // Audit events: 40, two per instant.
  await db.auditEvent.createMany({
    data: Array.from({ length: 40 }, (_, i) => ({ projectId, at: new Date(base + Math.floor(i / 2) * 1000), actorType: 'token', actorId: 'x', actorLabel: 'lists', action: 'run.start', targetType: 'run', targetId: String(i) })),
  })

  // A job's firings: 25, two per instant.
  jobId = (await db.job.create({ data: { projectId, name: 'nightly', locationId: 'us-east', cron: '0 2 * * *' } })).id
  await db.jobFiring.createMany({
    data: Array.from({ length: 25 }, (_, i) => ({ jobId, workflowId: `job-${jobId}-${i}`, scheduledAt: new Date(base + Math.floor(i / 2) * 86_400_000), status: 'passed' })),
  })

  listToken = token
  caller = tokenCaller(db, token)
})

afterAll(async () => {
  await db?.$disconnect()
  await database?.drop()
})

describe('runs.list', () => {
  const filters = () => [
    { name: 'no filter', input: {}, match: () => true },
    { name: 'status', input: { status: 'failed' as const }, match: (r: Run) => r.status === 'failed' },
    { name: 'location', input: { location: 'eu-central' }, match: (r: Run) => r.locationId === 'eu-central' },
    { name: 'test', input: { testId: testIds[1]! }, match: (r: Run) => r.testId === testIds[1] },
    { name: 'status and location', input: { status: 'passed' as const, location: 'us-east' }, match: (r: Run) => r.status === 'passed' && r.locationId === 'us-east' },
  ]

  it('pages through every matching run once, newest first (ties by id), returning each whole row\'s DTO', async () => {
    for (const filter of filters()) {
      const expected = runs.filter(filter.match).sort(newestFirst((r) => r.createdAt))
      expect(expected.length, filter.name).toBeGreaterThanOrEqual(4)
      for (const limit of [1, 4, 200]) {
        const seen: unknown[] = []
        let cursor: string | undefined
        for (let page = 0; page < 100; page++) {
          const res = await caller.runs.list({ ...filter.input, limit, ...(cursor ? { cursor } : {}) })
          seen.push(...res.items)
          if (!res.nextCursor) break
          expect(res.items).toHaveLength(limit)
          cursor = res.nextCursor
        }
        expect(seen, `${filter.name}, limit ${limit}`).toEqual(expected.map((r) => toRunDto(r, false)))
        // Byte for byte on the wire, key order included.
        expect(JSON.stringify(seen), `${filter.name}, limit ${limit}`).toBe(JSON.stringify(expected.map((r) => toRunDto(r, false))))
      }
    }
    // Some 150 pages: allow for a busy machine.
  }, 30_000)

  it('marks queued runs whose location has no runner, asking once per location of a queued run', async () => {
    const asked: string[] = []
    const waiting = tokenCaller(db, listToken, { presence: { waitingFor: async (location: string) => (asked.push(location), location === 'us-east') } })
    const page = await waiting.runs.list({ limit: 200 })
    const expected = runs.sort(newestFirst((r) => r.createdAt)).map((r) => toRunDto(r, r.locationId === 'us-east'))
    expect(page.items).toEqual(expected)
    expect(page.items.some((r) => r.waitingForRunner)).toBe(true)
    expect(asked.sort()).toEqual([...new Set(runs.filter((r) => r.status === 'queued').map((r) => r.locationId))].sort())
  })

  it('ends the list at a cursor that names no run', async () => {
    expect(await caller.runs.list({ cursor: randomUUID() })).toEqual({ items: [], nextCursor: null })
  })
})

describe('tests.list', () => {
  it('gives each test its newest run (ties by id) and none to a test without runs', async () => {
    const list = await caller.tests.list({})
    expect(list).toHaveLength(4)
    for (const test of list) {
      const newest = runs.filter((r) => r.testId === test.id).sort(newestFirst((r) => r.createdAt))[0]
      if (test.id === emptyTestId) expect(test.lastRun).toBeNull()
      else expect(test.lastRun).toEqual({ id: newest!.id, status: newest!.status, createdAt: newest!.createdAt.toISOString(), p95: newest!.httpReqDurationP95 })
      expect(await caller.tests.byId({ id: test.id })).toEqual(test)
    }
  })
})

describe('audit.list', () => {
  it('pages through every event once, newest first (ties by id)', async () => {
    const events = (await db.auditEvent.findMany({ where: { projectId } })).sort(newestFirst((e) => e.at))
    const seen: string[] = []
    let cursor: string | undefined
    for (let page = 0; page < 100; page++) {
      const res = await caller.audit.list({ limit: 3, ...(cursor ? { cursor } : {}) })
      seen.push(...res.items.map((e) => e.id))
      if (!res.nextCursor) break
      cursor = res.nextCursor
    }
    expect(seen).toEqual(events.map((e) => e.id))
    expect(await caller.audit.list({ cursor: randomUUID() })).toEqual({ items: [], nextCursor: null })
  })
})

describe('jobs.history', () => {
  it('pages through every firing once, newest first (ties by id)', async () => {
    const firings = (await db.jobFiring.findMany({ where: { jobId } })).sort(newestFirst((f) => f.scheduledAt))
    const seen: string[] = []
    let cursor: string | undefined
    for (let page = 0; page < 100; page++) {
      const res = await caller.jobs.history({ id: jobId, limit: 4, ...(cursor ? { cursor } : {}) })
      seen.push(...res.items.map((f) => f.id))
      if (!res.nextCursor) break
      cursor = res.nextCursor
    }
    expect(seen).toEqual(firings.map((f) => f.id))
    expect(await caller.jobs.history({ id: jobId, cursor: randomUUID() })).toEqual({ items: [], nextCursor: null })
  })
})
