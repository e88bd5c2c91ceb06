// runs.list's kept first pages on a real database: a page is served from memory only while its
// project's runs are unchanged, and any change to them (a new run, a status, a deletion, a
// truncation, by whichever client) makes the next call read the database again.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createDb, pgQuery, type Db } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import { KEPT_LIMIT, RunListCache } from './list-cache.ts'

let database: TestDatabase
let db: Db
let projectId: string
let otherProjectId: string

const run = (project: string, n: number) => ({
  id: randomUUID(),
  projectId: project,
  script: `export default function () { /* ${n} */ }`,
  locationId: 'us-east',
  trigger: 'api' as const,
  status: 'queued' as const,
  workflowId: `run-${randomUUID()}`,
  createdAt: new Date(Date.UTC(2026, 10, 1) + n * 1000),
  timeoutSeconds: 600,
})

beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url)
  await db.location.create({ data: { id: 'us-east', name: 'US East', region: 'Virginia' } })
  projectId = (await db.project.create({ data: { name: 'kept' } })).id
  otherProjectId = (await db.project.create({ data: { name: 'other' } })).id
  await db.run.createMany({ data: Array.from({ length: 5 }, (_, i) => run(projectId, i)) })
})

afterAll(async () => {
  await db?.$disconnect()
  await database?.drop()
})

let cache: RunListCache
beforeEach(() => {
  cache = new RunListCache(1024 * 1024)
})

const first = (limit = 3, filter: { status?: 'queued' | 'passed' } = {}) => cache.page(db, { projectId, ...filter }, limit)
const ids = async (limit = 3) => (await first(limit)).items.map((r) => r.id)

describe('RunListCache', () => {
  it('serves a first page again from memory while the project\'s runs are unchanged', async () => {
    const a = await first()
    const b = await first()
    expect(b).toEqual(a)
    expect(a.items).toHaveLength(3)
    expect(a.more).toBe(true)
    expect(cache.counts).toEqual({ hits: 1, misses: 1 })
    // Another filter or size is another page.
    await first(2)
    await first(3, { status: 'passed' })
    expect(cache.counts).toEqual({ hits: 1, misses: 3 })
  })

  it('reads again after a run is created, changed or deleted, and not after another project\'s run changes', async () => {
    const before = await ids()
    const created = run(projectId, 100)
    await db.run.create({ data: created })
    expect(await ids()).toEqual([created.id, ...before.slice(0, 2)])

    await db.run.update({ where: { id: created.id }, data: { status: 'passed' } })
    expect((await first()).items[0]).toMatchObject({ id: created.id, status: 'passed' })

    await db.run.create({ data: run(otherProjectId, 101) })
    const hits = cache.counts.hits
    expect((await first()).items[0]).toMatchObject({ id: created.id, status: 'passed' })
    expect(cache.counts.hits).toBe(hits + 1)

    await db.run.delete({ where: { id: created.id } })
    expect(await ids()).toEqual(before)
  })

  it('sees a change made through another connection (another API instance\'s write, a raw statement)', async () => {
    const other = createDb(database.url)
    try {
      await ids()
      await pgQuery(other, { text: `UPDATE runs SET status = 'cancelled' WHERE project_id = $1::uuid`, values: [projectId] })
      expect((await first()).items.every((r) => r.status === 'cancelled')).toBe(true)
    } finally {
      await other.$disconnect()
    }
  })

  it('keeps no cursor page, no page larger than KEPT_LIMIT, and nothing at all with no memory', async () => {
    const page = await first(2)
    await cache.page(db, { projectId, cursor: page.items[1]!.id }, 2)
    await cache.page(db, { projectId, cursor: page.items[1]!.id }, 2)
    expect(cache.counts).toEqual({ hits: 0, misses: 1 })
    await first(KEPT_LIMIT + 1)
    await first(KEPT_LIMIT + 1)
    await first(KEPT_LIMIT)
    await first(KEPT_LIMIT)
    expect(cache.counts).toEqual({ hits: 1, misses: 2 })

    const none = new RunListCache(0)
    expect(await none.page(db, { projectId }, 2)).toEqual(page)
    expect(await none.page(db, { projectId }, 2)).toEqual(page)
    expect(none.counts).toEqual({ hits: 0, misses: 0 })
  })
  it('reads again after the runs table is truncated, and a project deleted with its runs leaves no counter', async () => {
    const project = (await db.project.create({ data: { name: 'gone' } })).id
    await db.run.createMany({ data: [run(project, 1), run(project, 2)] })
    const page = () => cache.page(db, { projectId: project }, 10)
    expect((await page()).items).toHaveLength(2)
    await db.project.delete({ where: { id: project } })
    expect((await page()).items).toEqual([])
    expect(await db.runListVersion.count({ where: { projectId: project } })).toBe(0)

    expect((await first(10)).items.length).toBeGreaterThan(0)
    await pgQuery(db, { text: 'TRUNCATE runs CASCADE' })
    expect(await first(10)).toEqual({ items: [], more: false })
  })

})
