// Stampede applies prisma/migrations itself because Prisma 7's CLI cannot migrate offline on our
// machines. It keeps Prisma's own bookkeeping (the `_prisma_migrations` DDL, checksum rules and
// advisory-lock key of prisma-engines), so `prisma migrate deploy|status|resolve` and this
// migrator accept each other's databases. Unlike Prisma, each migration runs in one transaction,
// so a failed one leaves no half-applied schema behind, only its failure record.
import { createHash, randomUUID } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { redactSecrets, redactUrl } from './redact.ts'

export const defaultMigrationsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../prisma/migrations',
)

/** prisma-engines' key for `pg_advisory_lock`, so Stampede and `prisma migrate` exclude each other. */
export const MIGRATION_LOCK_KEY = 72707369
const LOCK_WAIT = '60s'

// Verbatim from prisma-engines (postgres flavour, `create_migrations_table`).
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`

export type MigrationErrorCode =
  | 'checksum-mismatch' // an applied migration's file changed
  | 'failed-migration' // history holds a failed migration (Prisma P3009)
  | 'migration-failed' // a migration's SQL failed just now (Prisma P3018)
  | 'database-not-empty' // tables but no history (Prisma P3005)
  | 'provider-mismatch' // migration_lock.toml names another provider
  | 'lock-timeout' // another migrator holds the lock
  | 'invalid-migrations' // unreadable migrations directory
  | 'not-failed' // markRolledBack on a migration that is not failed

export class MigrationError extends Error {
  override readonly name = 'MigrationError'
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export interface MigrateOptions {
  /** Folder in Prisma's layout: `<timestamp>_<name>/migration.sql` + `migration_lock.toml`. */
  migrationsDir?: string
  log?: (line: string) => void
}

export interface MigrateResult {
  /** Names of the migrations this call applied, in order. */
  applied: string[]
  /** How many migrations were already applied before this call. */
  alreadyApplied: number
}

export interface MigrationFile {
  name: string
  file: string
  script: string
  checksum: string
}

interface HistoryRow {
  id: string
  checksum: string
  migration_name: string
  logs: string | null
  started_at: Date
  finished_at: Date | null
  rolled_back_at: Date | null
}

/** sha256 of the script, lowercase hex: the `checksum` Prisma records. */
export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script).digest('hex')
}

/**
 * Prisma's comparison (prisma-engines `script_matches_checksum`): tolerant of CRLF/LF changes made
 * by git, and of the un-padded hex that old Prisma versions recorded.
 */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')]
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant).digest()
    const rendered =
      checksum.length !== 0 && checksum.length !== 64
        ? [...digest].map((byte) => byte.toString(16)).join('')
        : digest.toString('hex')
    return rendered === checksum
  })
}

/** The migrations in `dir`, in the order Prisma applies them (directory name order). */
export async function readMigrations(dir: string = defaultMigrationsDir): Promise<MigrationFile[]> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    throw new MigrationError('invalid-migrations', `Cannot read migrations directory ${dir}: ${errorMessage(err)}`)
  }
  await checkLockFile(dir)
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
  const migrations: MigrationFile[] = []
  for (const name of names) {
    const file = path.join(dir, name, 'migration.sql')
    let script: string
    try {
      script = await readFile(file, 'utf8')
    } catch (err) {
      throw new MigrationError('invalid-migrations', `Migration ${name} has no readable migration.sql (${file}): ${errorMessage(err)}`)
    }
    migrations.push({ name, file, script, checksum: migrationChecksum(script) })
  }
  return migrations
}

async function checkLockFile(dir: string): Promise<void> {
  const lockFile = path.join(dir, 'migration_lock.toml')
  let text: string
  try {
    text = await readFile(lockFile, 'utf8')
  } catch {
    return // Prisma treats a missing lock file as "no provider recorded yet".
  }
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(text)?.[1]
  if (provider !== undefined && provider !== 'postgresql') {
    throw new MigrationError(
      'provider-mismatch',
      `${lockFile} says the migrations were written for "${provider}", but this database is postgresql.`,
    )
  }
}

/**
 * Applies every migration in `migrationsDir` that the database has not applied yet, each in its
 * own transaction, holding Prisma's migration advisory lock for the whole run.
 */
export async function migrate(databaseUrl: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const log = opts.log ?? (() => {})
  const migrations = await readMigrations(opts.migrationsDir ?? defaultMigrationsDir)
  return withClient(databaseUrl, async (client) =>
    withMigrationLock(client, log, async () => {
      const history = await loadHistory(client)
      refuseFailed(history)
      const active = history.filter((row) => row.rolled_back_at === null)
      refuseEdited(migrations, active)

      const appliedNames = new Set(active.map((row) => row.migration_name))
      const pending = migrations.filter((m) => !appliedNames.has(m.name))
      const alreadyApplied = migrations.length - pending.length
      for (const name of appliedNames) {
        if (!migrations.some((m) => m.name === name)) {
          log(`Warning: migration ${name} is applied to the database but missing from the migrations directory.`)
        }
      }
      if (pending.length === 0) {
        log(`No pending migrations to apply (${alreadyApplied} already applied).`)
        return { applied: [], alreadyApplied }
      }

      const applied: string[] = []
      for (const migration of pending) {
        log(`Applying migration ${migration.name}`)
        const started = Date.now()
        await applyOne(client, migration)
        applied.push(migration.name)
        log(`Applied migration ${migration.name} in ${Date.now() - started} ms`)
      }
      return { applied, alreadyApplied }
    }),
  )
}

/**
 * `prisma migrate resolve --rolled-back <name>`: marks a failed migration as rolled back so the
 * next `migrate()` applies it again. Our migrations run in a transaction, so a failed one left
 * no schema changes behind; fix its SQL (or the data it tripped on), then call this.
 */
export async function markRolledBack(databaseUrl: string, migrationName: string): Promise<void> {
  await withClient(databaseUrl, async (client) =>
    withMigrationLock(client, () => {}, async () => {
      const history = await loadHistory(client)
      const failed = history.filter(
        (row) => row.migration_name === migrationName && row.finished_at === null && row.rolled_back_at === null,
      )
      if (failed.length === 0) {
        throw new MigrationError(
          'not-failed',
          `Migration ${migrationName} cannot be marked rolled back: the database has no failed record of it.`,
        )
      }
      await client.query('UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE id = ANY($1::varchar[])', [
        failed.map((row) => row.id),
      ])
    }),
  )
}

async function withClient<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl })
  // An idle client's socket error would otherwise be an unhandled 'error' event.
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (err) {
    await client.end().catch(() => {})
    throw new Error(`Cannot connect to ${redactUrl(databaseUrl)}: ${redactSecrets(errorMessage(err), databaseUrl)}`, {
      cause: err,
    })
  }
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}

async function withMigrationLock<T>(client: pg.Client, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
    MIGRATION_LOCK_KEY,
  ])
  if (!rows[0]?.locked) {
    log(`Waiting up to ${LOCK_WAIT} for another migrator to release the migration lock`)
    try {
      // lock_timeout bounds the wait; it covers advisory locks like any heavyweight lock.
      await client.query(`SET lock_timeout = '${LOCK_WAIT}'`)
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
    } catch (err) {
      if (pgCode(err) === '55P03') {
        throw new MigrationError(
          'lock-timeout',
          `Timed out after ${LOCK_WAIT} waiting for the migration lock (pg_advisory_lock(${MIGRATION_LOCK_KEY})): ` +
            'another `db:migrate` or `prisma migrate` is running, or a stuck session holds the lock.',
        )
      }
      throw err
    } finally {
      await client.query('RESET lock_timeout').catch(() => {})
    }
  }
  try {
    return await fn()
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {})
  }
}

async function loadHistory(client: pg.Client): Promise<HistoryRow[]> {
  const { rows } = await client.query<{ exists: boolean }>(
    "SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists",
  )
  if (!rows[0]?.exists) {
    // Like Prisma (P3005): never take over a database whose tables we did not create.
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = current_schema() ORDER BY table_name`,
    )
    if (tables.rows.length > 0) {
      throw new MigrationError(
        'database-not-empty',
        `The database schema is not empty (${tables.rows.map((r) => r.table_name).join(', ')}) ` +
          'and has no migration history (_prisma_migrations). Migrate an empty database, or baseline this one ' +
          '(https://pris.ly/d/migrate-baseline).',
      )
    }
    await client.query(CREATE_MIGRATIONS_TABLE)
    return []
  }
  const history = await client.query<HistoryRow>(
    `SELECT id, checksum, migration_name, logs, started_at, finished_at, rolled_back_at
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  )
  return history.rows
}

function refuseFailed(history: HistoryRow[]): void {
  const failed = history.filter((row) => row.finished_at === null && row.rolled_back_at === null)
  if (failed.length === 0) return
  const details = failed
    .map((row) => {
      const logs = row.logs?.trim() ? ` with the following logs:\n${row.logs.trim()}` : ''
      return `The \`${row.migration_name}\` migration started at ${row.started_at.toISOString()} failed${logs}`
    })
    .join('\n')
  throw new MigrationError(
    'failed-migration',
    'Found failed migrations in the database; new migrations will not be applied until they are resolved.\n' +
      `${details}\n` +
      'Fix the migration, then mark it rolled back with `npm run db:migrate -- --rolled-back <name>` ' +
      '(same as `prisma migrate resolve --rolled-back <name>`) and migrate again.',
  )
}

function refuseEdited(migrations: MigrationFile[], active: HistoryRow[]): void {
  for (const migration of migrations) {
    const row = active.find((r) => r.migration_name === migration.name && r.finished_at !== null)
    if (row && !scriptMatchesChecksum(migration.script, row.checksum)) {
      throw new MigrationError(
        'checksum-mismatch',
        `${migration.file} was edited after it was applied; add a new migration instead ` +
          `(recorded checksum ${row.checksum}, file now ${migration.checksum}).`,
      )
    }
  }
}

async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  const id = randomUUID()
  const startedAt = new Date()
  try {
    await client.query('BEGIN')
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, $4)',
      [id, migration.checksum, migration.name, startedAt],
    )
    // No parameters: pg sends it as a simple query, so a multi-statement script runs as is.
    await client.query(migration.script)
    await client.query(
      `UPDATE "_prisma_migrations"
          SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
        WHERE id = $1`,
      [id],
    )
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    const logs = describeDatabaseError(err)
    // Record the failure outside the rolled-back transaction, as Prisma does: finished_at stays
    // NULL, so every later run refuses to continue until someone resolves it.
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
       VALUES ($1, $2, $3, $4, $5, 0)`,
      [id, migration.checksum, migration.name, logs, startedAt],
    )
    throw new MigrationError(
      'migration-failed',
      `Migration ${migration.name} failed and was rolled back; no changes from it remain.\n` +
        `File: ${migration.file}\n${logs}`,
    )
  }
}

function describeDatabaseError(err: unknown): string {
  const code = pgCode(err)
  const position = err instanceof Error && 'position' in err && err.position ? ` (at character ${String(err.position)})` : ''
  return (code ? `Database error code: ${code}\n\n` : '') + `Database error:\n${errorMessage(err)}${position}`
}

function pgCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
