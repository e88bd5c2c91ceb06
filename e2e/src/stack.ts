// The whole platform on real parts for end-to-end tests and benchmarks: a Temporal dev server,
// a fresh database on the machine's Postgres, an S3-compatible server, the API, and runners.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createTRPCClient, httpLink } from '@trpc/client'
import { createServer, loadApiConfig, type ApiServer, type AppRouter } from '@stampede/api'
import { createRunner, loadRunnerConfig, type Runner } from '@stampede/runner'
import { createTestDatabase } from '@stampede/db/testing'
import { startEmbeddedS3, startTemporalDevServer } from '@stampede/devstack'
import { resolveTool } from '@stampede/tools'

export type Api = ReturnType<typeof createTRPCClient<AppRouter>>

export interface Stack {
  apiUrl: string
  wsUrl: string
  api: Api
  env: Record<string, string>
  server: ApiServer
  /** Starts another runner with extra environment (e.g. a location-only runner). */
  startRunner(extra?: Record<string, string>): Promise<Runner>
  stop(): Promise<void>
}

export interface StackOptions {
  locations?: string
  /** Environment of the first runner; `false` starts none. */
  runner?: Record<string, string> | false
  api?: Record<string, string>
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const cleanups: (() => Promise<void>)[] = []
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'stampede-e2e-'))
  cleanups.push(() => rm(tmp, { recursive: true, force: true }))
  try {
    const [temporalBin, k6Bin] = await Promise.all([resolveTool('temporal'), resolveTool('k6')])
    const [temporal, s3, database] = await Promise.all([
      startTemporalDevServer({ binPath: temporalBin.path }),
      startEmbeddedS3({ dir: path.join(tmp, 's3'), bucket: 'stampede' }),
      createTestDatabase(),
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
      ...(opts.locations ? { LOCATIONS: opts.locations } : {}),
    }
    const server = await createServer(loadApiConfig({ ...env, API_PORT: '0', ...opts.api }))
    const apiUrl = await server.start()
    cleanups.push(() => server.stop())

    const runners: Runner[] = []
    const startRunner = async (extra: Record<string, string> = {}) => {
      const runner = await createRunner(loadRunnerConfig({ ...env, ...extra }), { log: () => {} })
      runners.push(runner)
      return runner
    }
    cleanups.push(async () => {
      await Promise.all(runners.map((r) => r.shutdown()))
    })
    if (opts.runner !== false) await startRunner(opts.runner ?? {})

    const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${apiUrl}/trpc` })] })
    return {
      apiUrl,
      wsUrl: apiUrl.replace(/^http/, 'ws'),
      api,
      env,
      server,
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
