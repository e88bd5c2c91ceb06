// Throw-away databases for tests: each test file gets its own freshly migrated database on the
// shared Postgres server, so tests never see each other's rows and can run in parallel.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { migrate } from './migrate.ts'
import { redactSecrets, redactUrl } from './redact.ts'
import { testDatabaseAdminUrl } from './env.ts'

export const DEFAULT_TEST_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/test'

export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as the admin URL). */
  url: string
  name: string
  /** Terminates every connection to the database and drops it. Safe to call twice. */
  drop(): Promise<void>
}

export async function createTestDatabase(
  opts: { adminUrl?: string; migrate?: boolean } = {},
): Promise<TestDatabase> {
  const adminUrl = opts.adminUrl ?? testDatabaseAdminUrl() ?? DEFAULT_TEST_ADMIN_URL
  const name = `stampede_test_${randomBytes(6).toString('hex')}`
  await admin(adminUrl, `CREATE DATABASE "${name}"`)

  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const db: TestDatabase = {
    url: url.toString(),
    name,
    // WITH (FORCE) terminates the remaining connections (a leaked pool must not block cleanup).
    drop: () => admin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  }
  if (opts.migrate ?? true) {
    try {
      await migrate(db.url)
    } catch (err) {
      await db.drop()
      throw err
    }
  }
  return db
}

async function admin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query(sql)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    throw new Error(`${sql} on ${redactUrl(adminUrl)} failed: ${redactSecrets(message, adminUrl)}`, { cause: err })
  } finally {
    await client.end().catch(() => {})
  }
}
