// The Prisma client from createDb() against a freshly migrated Postgres database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, Prisma, RunStatus, type Db } from '../src/index.ts'
import { createTestDatabase, type TestDatabase } from '../src/testing.ts'
import { roundTrip } from './round-trip.ts'

let database: TestDatabase
let db: Db
beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url, { max: 4 })
})
afterAll(async () => {
  await db?.$disconnect()
  await database?.drop()
})

describe('createDb', () => {
  it('writes and reads locations, tests and runs with BigInt, Json and relations', async () => {
    await roundTrip(db)
  })

  it('raises P2002 on a duplicate workflowId', async () => {
    const location = await db.location.create({ data: { id: 'eu-dup', name: 'EU', region: 'eu-west-1' } })
    const { id: projectId } = await db.project.findFirstOrThrow()
    const data = { projectId, script: 'x', locationId: location.id, trigger: 'api' as const, timeoutSeconds: 60, workflowId: 'run-dup' }
    await db.run.create({ data })
    const err: unknown = await db.run.create({ data }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
    expect((err as Prisma.PrismaClientKnownRequestError).code).toBe('P2002')
  })

  it('sets SET NULL on runs when their test is deleted, and refuses to delete a used location', async () => {
    const location = await db.location.create({ data: { id: 'us-fk', name: 'US', region: 'us-east-1' } })
    const { id: projectId } = await db.project.findFirstOrThrow()
    const test = await db.test.create({ data: { projectId, name: 'fk', script: 'x' } })
    const run = await db.run.create({
      data: { projectId, script: 'x', testId: test.id, locationId: location.id, trigger: 'schedule', timeoutSeconds: 1, workflowId: 'run-fk' },
    })
    await db.test.delete({ where: { id: test.id } })
    expect(await db.run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ testId: null, status: RunStatus.queued })
    await expect(db.location.delete({ where: { id: location.id } })).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
  })
})
