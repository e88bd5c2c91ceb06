// The whole platform on real parts for end-to-end tests and benchmarks: a Temporal dev server,
// a fresh database (createTestDatabase on TEST_DATABASE_ADMIN_URL: in the e2e suite the embedded
// PostgreSQL its globalSetup starts, see vitest.config.ts), an S3-compatible server, the API,
// and runners. Temporal, S3 and the suite's PostgreSQL listen on the platform's reserved
// loopback address (127.77.0.1 on Linux), as `npm run dev` starts them, so k6 in single-machine
// mode cannot reach them (with E2E_POSTGRES=machine, or in the benchmark, the database is on the
// machine's PostgreSQL, 127.0.0.1:5432 by default).
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createServer, loadApiConfig, type ApiServer } from '@stampede/api'
import { createRunner, loadRunnerConfig, type Runner } from '@stampede/runner'
import { createTestDatabase } from '@stampede/db/testing'
import { embeddedServicesHost, startEmbeddedS3, startTemporalDevServer } from '@stampede/devstack'
import { resolveTool } from '@stampede/tools'

import { bootstrapAdmin, type Api, type SessionClient } from './clients.ts'

export type { Api } from './clients.ts'

export { ADMIN } from './clients.ts'

export interface Stack {
  apiUrl: string
  wsUrl: string
  /** The address the stack's Temporal dev server and S3 server listen on. */
  servicesHost: string
  /** Authenticates the console WebSocket with the admin token. */
  wsHeaders: Record<string, string>
  /** The one-time setup token the first admin was created with (used, so refused from now on). */
  bootstrapToken: string
  /** The bootstrapped admin's API token (scope admin) on the Default project. */
  api: Api
  token: string
  projectId: string
  /** The bootstrapped admin's signed-in session (cookie + CSRF), as the web UI uses it. */
  admin: SessionClient
  env: Record<string, string>
  server: ApiServer
  /** The runners started so far (the first one unless `runner: false`). */
  runners: Runner[]
  /** Starts another runner with extra environment (e.g. a location-only runner). */
  startRunner(extra?: Record<string, string>): Promise<Runner>
  stop(): Promise<void>
}

export interface StackOptions {
  locations?: string
  /** Environment of the first runner; `false` starts none. */
  runner?: Record<string, string> | false
  api?: Record<string, string>
  /** The server to create the stack's database on (default: the suite's, TEST_DATABASE_ADMIN_URL). */
  databaseAdminUrl?: string
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const cleanups: (() => Promise<void>)[] = []
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'stampede-e2e-'))
  // The k6 sandboxes' users must be able to pass through to the runners' work directory.
  await chmod(tmp, 0o711)
  cleanups.push(() => rm(tmp, { recursive: true, force: true }))
  try {
    const [temporalBin, k6Bin] = await Promise.all([resolveTool('temporal'), resolveTool('k6')])
    const servicesHost = embeddedServicesHost()
    const [temporal, s3, database] = await Promise.all([
      startTemporalDevServer({ binPath: temporalBin.path, host: servicesHost }),
      startEmbeddedS3({ dir: path.join(tmp, 's3'), host: servicesHost, bucket: 'stampede' }),
      createTestDatabase(opts.databaseAdminUrl ? { adminUrl: opts.databaseAdminUrl } : {}),
    ])
    cleanups.push(() => database.drop(), () => s3.stop(), () => temporal.stop())
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_REGION: s3.region,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      K6_BIN_PATH: k6Bin.path,
      RUNNER_WORK_DIR: path.join(tmp, 'work'),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      // Single-machine mode: the targets tests start listen on 127.0.0.1.
      ALLOW_LOOPBACK_TARGETS: 'true',
      ...(opts.locations ? { LOCATIONS: opts.locations } : {}),
    }
    const bootstrapToken = randomBytes(24).toString('base64url')
    const server = await createServer(loadApiConfig({ ...env, API_PORT: '0', BOOTSTRAP_TOKEN: bootstrapToken, API_TOKEN_RATE_LIMIT: '100000', VALIDATION_RATE_LIMIT: '100000', ...opts.api }))
    const apiUrl = await server.start()
    cleanups.push(() => server.stop())

    const runners: Runner[] = []
    const startRunner = async (extra: Record<string, string> = {}) => {
      const runner = await createRunner(loadRunnerConfig({ API_PUBLIC_URL: apiUrl, ...env, ...extra }), { log: () => {} })
      runners.push(runner)
      return runner
    }
    cleanups.push(async () => {
      await Promise.all(runners.map((r) => r.shutdown()))
    })
    if (opts.runner !== false) await startRunner(opts.runner ?? {})

    const { admin, projectId, token, api, wsHeaders } = await bootstrapAdmin(apiUrl, bootstrapToken, 'e2e')
    return {
      apiUrl,
      wsUrl: apiUrl.replace(/^http/, 'ws'),
      servicesHost,
      wsHeaders,
      bootstrapToken,
      api,
      token,
      projectId,
      admin,
      env,
      server,
      runners,
      startRunner,
      async stop() {
        for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.warn(`cleanup: ${(err as Error).message}`))
      },
    }
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => {})
    throw err
  }
}
