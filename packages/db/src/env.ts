// The only place in @stampede/db that reads the process environment (lint rule: process.env only
// in env.ts files). Everything else takes these values as arguments.

/** DATABASE_URL: the database `npm run db:migrate` migrates (cli.ts). */
export function databaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.DATABASE_URL
}

/** TEST_DATABASE_ADMIN_URL: the Postgres server tests create their throw-away databases on (testing.ts). */
export function testDatabaseAdminUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.TEST_DATABASE_ADMIN_URL
}
