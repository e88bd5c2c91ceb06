// The migrator, the schema proof and the Prisma client against the embedded Postgres (PGlite
// served over the wire protocol by pglite-socket), which the zero-setup dev stack uses.
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb } from '../src/index.ts'
import { migrate, readMigrations } from '../src/migrate.ts'
import { diffDatabaseAgainstSchema } from '../src/schema-drift.ts'
import { roundTrip } from './round-trip.ts'

let pglite: PGlite
let server: PGLiteSocketServer
let url: string

beforeAll(async () => {
  pglite = await PGlite.create() // in memory
  // Port 0: the OS picks a free port; the server reads the real one back.
  server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0 })
  await server.start()
  url = `postgresql://postgres@${server.getServerConn()}/postgres`
})
afterAll(async () => {
  await server?.stop()
  await pglite?.close()
})

describe('PGlite over pglite-socket', () => {
  it('migrates, and a second run applies nothing', async () => {
    const files = await readMigrations()
    expect(await migrate(url)).toEqual({ applied: files.map((f) => f.name), alreadyApplied: 0 })
    expect(await migrate(url)).toEqual({ applied: [], alreadyApplied: files.length })
  })

  it('matches schema.prisma exactly', async () => {
    expect(await diffDatabaseAgainstSchema(url)).toEqual({ missing: [], unexpected: [] })
  })

  it('serves the Prisma client (one connection: pglite-socket allows one by default)', async () => {
    const db = createDb(url, { max: 1 })
    try {
      await roundTrip(db)
    } finally {
      await db.$disconnect()
    }
  })
})
