// @stampede/db: the Prisma client for Stampede's Postgres (schema in prisma/schema.prisma),
// created over `pg` through @prisma/adapter-pg, plus the migrator that applies prisma/migrations.
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from './generated/client.ts'

export { Prisma, PrismaClient, RunStatus, RunTrigger } from './generated/client.ts'
export type { Location, Run, Test, Project, ProjectRole, TokenScope, User, ApiToken, AuditEvent } from './generated/client.ts'
export { migrate, markRolledBack, MigrationError } from './migrate.ts'
export type { MigrateOptions, MigrateResult, MigrationErrorCode } from './migrate.ts'
export { redactUrl } from './redact.ts'
export { lockRunQuota, type RunQuota } from './quota.ts'

export type Db = PrismaClient

const pools = new WeakMap<PrismaClient, pg.Pool>()

/** How long a pooled connection stays open unused. */
const IDLE_CONNECTION_MS = 60_000

/** A Prisma client over a `pg` pool of at most `max` connections (pg's default: 10). */
export function createDb(databaseUrl: string, opts: { max?: number } = {}): PrismaClient {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    // A database that stops answering (rather than refusing) must fail a request in seconds, not hang it.
    connectionTimeoutMillis: 5_000,
    // pg closes a connection idle for 10 s by default, so a platform with a request every few
    // seconds kept opening new ones: about 50 ms of Postgres CPU each (a backend's start and its
    // catalog caches), several at every run's start and end. A minute keeps them across those gaps.
    idleTimeoutMillis: IDLE_CONNECTION_MS,
    // …without holding a process that has nothing else to do open for that minute.
    allowExitOnIdle: true,
    ...(opts.max !== undefined ? { max: opts.max } : {}),
  })
  // An idle connection that fails (the server restarts) is dropped by the pool; without a listener
  // its 'error' would end the process before Prisma's adapter has connected and added its own.
  pool.on('error', () => {})
  // The adapter ends the pool on $disconnect, as it ends a pool of its own.
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) })
  pools.set(client, pool)
  return client
}

/**
 * A query straight on the `pg` pool under a client from createDb, for the few hot paths where
 * Prisma's own cost per call counts (runs.list, the API-token lookup of every request): same
 * connections, same limits, no query compiler or result mapping. Parameters are always bound
 * ($1, $2 …), never spliced into the text. An error is thrown as a DatabaseQueryError with pg's
 * error as its cause (and its code), so the API tells a database outage from a bug as it does
 * for Prisma's errors.
 */
export async function pgQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(db: Db, query: pg.QueryConfig): Promise<pg.QueryResult<R>> {
  const pool = pools.get(db)
  if (!pool) throw new Error('pgQuery needs a client made by createDb')
  try {
    return await pool.query<R>(query)
  } catch (err) {
    throw new DatabaseQueryError(err)
  }
}

/** A failed pgQuery; `cause` is pg's error, `code` its code (a SQLSTATE, or ECONNREFUSED …). */
export class DatabaseQueryError extends Error {
  override readonly name = 'DatabaseQueryError'
  readonly code: string | undefined

  constructor(cause: unknown) {
    super(`database query failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    const code = (cause as { code?: unknown } | null)?.code
    this.code = typeof code === 'string' ? code : undefined
  }
}

/** pg type parsers that leave every value as Postgres's text (or null), for callers that convert each column themselves. */
export const TEXT_VALUES: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig
