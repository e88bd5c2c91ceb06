// `npm run db:migrate`: applies prisma/migrations to DATABASE_URL with Stampede's migrator
// (see migrate.ts for why not `prisma migrate deploy`). `-- --rolled-back <name>` resolves a
// failed migration the way `prisma migrate resolve --rolled-back` does.
import { parseArgs } from 'node:util'
import { markRolledBack, migrate } from './migrate.ts'
import { redactSecrets, redactUrl } from './redact.ts'
import { databaseUrl as databaseUrlFromEnv } from './env.ts'

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'rolled-back': { type: 'string' }, 'migrations-dir': { type: 'string' } },
    strict: true,
  })
  const databaseUrl = databaseUrlFromEnv()
  if (!databaseUrl) {
    console.error(
      'DATABASE_URL is not set. Point it at the Postgres database to migrate, e.g.\n' +
        '  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/stampede npm run db:migrate',
    )
    return 1
  }
  const target = redactUrl(databaseUrl)
  try {
    const rolledBack = values['rolled-back']
    if (rolledBack) {
      await markRolledBack(databaseUrl, rolledBack)
      console.log(`Marked migration ${rolledBack} as rolled back on ${target}; run db:migrate again to re-apply it.`)
      return 0
    }
    console.log(`Migrating ${target}`)
    const result = await migrate(databaseUrl, {
      ...(values['migrations-dir'] ? { migrationsDir: values['migrations-dir'] } : {}),
      log: (line) => console.log(redactSecrets(line, databaseUrl)),
    })
    console.log(
      result.applied.length === 0
        ? `Database is up to date (${result.alreadyApplied} migrations applied earlier).`
        : `Applied ${result.applied.length} migration(s): ${result.applied.join(', ')}` +
            ` (${result.alreadyApplied} applied earlier).`,
    )
    return 0
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    console.error(`Migration of ${target} failed:\n${redactSecrets(message, databaseUrl)}`)
    return 1
  }
}

process.exitCode = await main()
