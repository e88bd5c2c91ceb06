// @stampede/db: the Prisma client for Stampede's Postgres (schema in prisma/schema.prisma),
// created over `pg` through @prisma/adapter-pg, plus the migrator that applies prisma/migrations.
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from './generated/client.ts'

export { Prisma, PrismaClient, RunStatus, RunTrigger } from './generated/client.ts'
export type { Location, Run, Test, Project, ProjectRole, TokenScope, User, ApiToken, AuditEvent } from './generated/client.ts'
export { migrate, markRolledBack, MigrationError } from './migrate.ts'
export type { MigrateOptions, MigrateResult, MigrationErrorCode } from './migrate.ts'
export { redactUrl } from './redact.ts'
export { lockRunQuota, type RunQuota } from './quota.ts'

export type Db = PrismaClient

/** A Prisma client over a `pg` pool of at most `max` connections (pg's default: 10). */
export function createDb(databaseUrl: string, opts: { max?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    // A database that stops answering (rather than refusing) must fail a request in seconds, not hang it.
    connectionTimeoutMillis: 5_000,
    ...(opts.max !== undefined ? { max: opts.max } : {}),
  })
  return new PrismaClient({ adapter })
}
