// The migrator against the real Postgres server (TEST_DATABASE_ADMIN_URL or 127.0.0.1:5432).
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultMigrationsDir, markRolledBack, migrate, migrationChecksum, readMigrations } from '../src/migrate.ts'
import { createTestDatabase, type TestDatabase } from '../src/testing.ts'

const databases: TestDatabase[] = []
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.drop()))
})

async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ migrate: false })
  databases.push(db)
  return db
}

async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stampede-migrations-'))
  await cp(defaultMigrationsDir, dir, { recursive: true })
  return dir
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(sql)).rows
  } finally {
    await client.end()
  }
}

interface HistoryRow {
  migration_name: string
  checksum: string
  finished_at: Date | null
  rolled_back_at: Date | null
  applied_steps_count: number
  logs: string | null
}
const history = (url: string) =>
  query<HistoryRow>(url, 'SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name')

describe('migrate', () => {
  it('applies every migration to a fresh database, then nothing on the second run', async () => {
    const db = await emptyDatabase()
    const files = await readMigrations()
    const lines: string[] = []

    const first = await migrate(db.url, { log: (l) => lines.push(l) })
    expect(first).toEqual({ applied: files.map((f) => f.name), alreadyApplied: 0 })
    expect(lines).toContain(`Applying migration ${files[0]?.name}`)

    const second = await migrate(db.url)
    expect(second).toEqual({ applied: [], alreadyApplied: files.length })

    const rows = await history(db.url)
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name))
    for (const [i, row] of rows.entries()) {
      const file = files[i]!
      // Prisma's bookkeeping: checksum = sha256 hex of migration.sql, one step, finished.
      expect(row.checksum).toBe(migrationChecksum(await readFile(file.file, 'utf8')))
      expect(row.applied_steps_count).toBe(1)
      expect(row.finished_at).toBeInstanceOf(Date)
      expect(row.rolled_back_at).toBeNull()
      expect(row.logs).toBeNull()
    }
  })

  it('creates _prisma_migrations with exactly the columns prisma-engines creates', async () => {
    const db = await emptyDatabase()
    await migrate(db.url)
    const columns = await query<{ column_name: string; data_type: string; len: number | null; is_nullable: string; column_default: string | null }>(
      db.url,
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    )
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'character varying', len: 36, is_nullable: 'NO', column_default: null },
      { column_name: 'checksum', data_type: 'character varying', len: 64, is_nullable: 'NO', column_default: null },
      { column_name: 'finished_at', data_type: 'timestamp with time zone', len: null, is_nullable: 'YES', column_default: null },
      { column_name: 'migration_name', data_type: 'character varying', len: 255, is_nullable: 'NO', column_default: null },
      { column_name: 'logs', data_type: 'text', len: null, is_nullable: 'YES', column_default: null },
      { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', len: null, is_nullable: 'YES', column_default: null },
      { column_name: 'started_at', data_type: 'timestamp with time zone', len: null, is_nullable: 'NO', column_default: 'now()' },
      { column_name: 'applied_steps_count', data_type: 'integer', len: null, is_nullable: 'NO', column_default: '0' },
    ])
  })

  it('refuses to continue when an applied migration was edited, naming the file', async () => {
    const db = await emptyDatabase()
    const dir = await copyOfMigrations()
    await migrate(db.url, { migrationsDir: dir })
    const [first] = await readMigrations(dir)
    await writeFile(first!.file, `${first!.script}\n-- a sneaky edit\n`)

    await expect(migrate(db.url, { migrationsDir: dir })).rejects.toMatchObject({
      code: 'checksum-mismatch',
      message: expect.stringContaining(`${first!.file} was edited after it was applied; add a new migration instead`),
    })
  })

  it('tolerates a checkout that changed LF to CRLF, as Prisma does', async () => {
    const db = await emptyDatabase()
    const dir = await copyOfMigrations()
    await migrate(db.url, { migrationsDir: dir })
    const [first] = await readMigrations(dir)
    await writeFile(first!.file, first!.script.replaceAll('\n', '\r\n'))
    await expect(migrate(db.url, { migrationsDir: dir })).resolves.toMatchObject({ applied: [] })
  })

  it('lets two processes migrate at once: one applies, the other waits and finds nothing to do', async () => {
    const db = await emptyDatabase()
    const files = await readMigrations()
    const results = await Promise.all([migrate(db.url), migrate(db.url)])

    expect(results.map((r) => r.applied.length).sort()).toEqual([0, files.length])
    expect(results.map((r) => r.alreadyApplied).sort()).toEqual([0, files.length])
    const rows = await history(db.url)
    expect(rows).toHaveLength(files.length)
    expect(rows.every((r) => r.finished_at !== null)).toBe(true)
  })

  it('records a failed migration, rolls its changes back, and refuses to go on until it is resolved', async () => {
    const db = await emptyDatabase()
    const dir = await copyOfMigrations()
    const broken = '29990101000000_broken'
    await mkdir(path.join(dir, broken))
    const brokenFile = path.join(dir, broken, 'migration.sql')
    await writeFile(brokenFile, 'CREATE TABLE "half_done" ("id" TEXT);\nALTER TABLE "no_such_table" ADD COLUMN "x" TEXT;\n')

    await expect(migrate(db.url, { migrationsDir: dir })).rejects.toMatchObject({
      code: 'migration-failed',
      message: expect.stringMatching(/29990101000000_broken failed and was rolled back[\s\S]*42P01[\s\S]*no_such_table/),
    })
    // The failed migration's first statement did not survive: one transaction per migration.
    expect(await query(db.url, "SELECT 1 FROM pg_class WHERE relname = 'half_done'")).toEqual([])
    const failed = (await history(db.url)).find((r) => r.migration_name === broken)
    expect(failed).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 })
    expect(failed?.logs).toContain('relation "no_such_table" does not exist')

    // Next run: refused, with the reason and how to resolve it, like Prisma's P3009.
    await expect(migrate(db.url, { migrationsDir: dir })).rejects.toMatchObject({
      code: 'failed-migration',
      message: expect.stringMatching(/`29990101000000_broken` migration started at .* failed[\s\S]*--rolled-back/),
    })

    // Fix the SQL, mark the failure rolled back (prisma migrate resolve --rolled-back), re-run.
    await writeFile(brokenFile, 'CREATE TABLE "half_done" ("id" TEXT);\n')
    await markRolledBack(db.url, broken)
    await expect(migrate(db.url, { migrationsDir: dir })).resolves.toMatchObject({ applied: [broken] })
    const rows = (await history(db.url)).filter((r) => r.migration_name === broken)
    expect(rows.map((r) => [r.rolled_back_at !== null, r.finished_at !== null])).toEqual([
      [true, false],
      [false, true],
    ])
  })

  it('refuses a non-empty database that has no migration history', async () => {
    const db = await emptyDatabase()
    await query(db.url, 'CREATE TABLE "someone_elses" ("id" INTEGER)')
    await expect(migrate(db.url)).rejects.toMatchObject({
      code: 'database-not-empty',
      message: expect.stringContaining('someone_elses'),
    })
  })

  it('never puts the password in a connection error', async () => {
    const url = 'postgresql://postgres:hunter2-secret@127.0.0.1:1/nowhere'
    const err: unknown = await migrate(url).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toContain('postgresql://postgres:***@127.0.0.1:1/nowhere')
    expect((err as Error).message).not.toContain('hunter2-secret')
  })
})

describe('20261210120000_projects_and_access', () => {
  it('moves tests and runs that existed before projects into the Default project', async () => {
    const db = await emptyDatabase()
    const before = await copyOfMigrations()
    for (const m of await readMigrations(before)) {
      if (m.name >= '20261210120000_projects_and_access') await rm(path.join(before, m.name), { recursive: true })
    }
    await migrate(db.url, { migrationsDir: before })
    await query(db.url, `INSERT INTO locations (id, name, region, updated_at) VALUES ('us-east', 'US East', 'us-east-1', now())`)
    await query(db.url, `INSERT INTO tests (id, name, script, updated_at) VALUES ('11111111-1111-4111-8111-111111111111', 'old', 'x', now())`)
    await query(
      db.url,
      `INSERT INTO runs (id, test_id, script, location_id, trigger, workflow_id, timeout_seconds)
       VALUES ('22222222-2222-4222-8222-222222222222', '11111111-1111-4111-8111-111111111111', 'x', 'us-east', 'manual', 'run-2', 60)`,
    )

    await migrate(db.url)

    const projects = await query<{ id: string; name: string }>(db.url, 'SELECT id, name FROM projects')
    expect(projects.map((p) => p.name)).toEqual(['Default'])
    const rows = await query<{ project_id: string }>(db.url, 'SELECT project_id FROM tests UNION ALL SELECT project_id FROM runs')
    expect(rows.map((r) => r.project_id)).toEqual([projects[0]?.id, projects[0]?.id])
  })
})
