// Vitest globalSetup: the e2e suite's databases live on one embedded PostgreSQL (the one
// `npm run dev` uses), started here for the whole suite in a temporary directory, on the
// platform's reserved address (as in `npm run dev`), and stopped at the end. Each test file
// still creates and drops its own database on it (`createTestDatabase`). The admin URL reaches
// the test files through `provide` (see postgres.setup.ts, which makes it their
// TEST_DATABASE_ADMIN_URL).
//
// E2E_POSTGRES=machine runs the suite on the machine's PostgreSQL instead
// (TEST_DATABASE_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/test).
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { describeStart, embeddedServicesHost, startEmbeddedPostgres } from '@stampede/devstack'
import { redactUrl } from '@stampede/db'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where test files create their databases; unset on the machine's PostgreSQL. */
    e2ePostgresAdminUrl: string | undefined
  }
}

export async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const mode = process.env.E2E_POSTGRES?.trim() || 'embedded'
  if (mode === 'machine') {
    project.provide('e2ePostgresAdminUrl', undefined)
    return undefined
  }
  if (mode !== 'embedded') throw new Error(`E2E_POSTGRES: "${mode}" is not "embedded" (the default) or "machine"`)

  const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-e2e-pg-'))
  // As root the server runs as the `postgres` user, which must pass through this directory.
  await chmod(dir, 0o711)
  try {
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      host: embeddedServicesHost(),
      database: 'postgres',
      log: (line) => console.error(`[e2e] ${line}`),
    })
    console.log(`[e2e] ${describeStart(pg)}: ${redactUrl(pg.url)} (E2E_POSTGRES=machine uses the machine's PostgreSQL instead)`)
    project.provide('e2ePostgresAdminUrl', pg.url)
    return async () => {
      await pg.stop()
      await rm(dir, { recursive: true, force: true })
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}
