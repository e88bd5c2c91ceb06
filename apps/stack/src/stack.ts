// `npm run dev` / `npm start`: the whole platform on one machine with embedded defaults. Each
// external service is started here only when its setting is absent: Temporal's dev server
// unless TEMPORAL_ADDRESS is set, an embedded PostgreSQL unless DATABASE_URL is set, an embedded
// S3-compatible server unless S3_ENDPOINT is set. The embedded services listen on
// EMBEDDED_SERVICES_HOST (default 127.77.0.1 on Linux: the platform's reserved loopback range,
// which k6 can never reach, also in single-machine mode). Data lives in STAMPEDE_DATA_DIR
// (default .data/) and survives restarts. Ctrl-C stops everything. The settings are read in env.ts;
// the embedded services come from packages/devstack. This app is the platform's composition root:
// the one place that starts the API, the runner and the web app together.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createServer, loadApiConfig } from '@stampede/api'
import { migrate, redactUrl } from '@stampede/db'
import { generateSecretsKey } from '@stampede/db/secrets'
import { createRunner, loadRunnerConfig } from '@stampede/runner'
import { repoRoot, resolveTool } from '@stampede/tools'
import { PLATFORM_LOOPBACK_CIDR, blockingRange } from '@stampede/shared/targets'
import { ClusterVersionError, describeStart, embeddedServicesHost, startEmbeddedPostgres, startEmbeddedS3, startTemporalDevServer, type EmbeddedPostgres } from '@stampede/devstack'
import { devConcurrency } from './concurrency.ts'
import { loadStackEnv } from './env.ts'

const settings = loadStackEnv()
const { env } = settings
const mode = process.argv.includes('--production') ? 'production' : 'dev'
const dataDir = path.resolve(settings.dataDir ?? path.join(repoRoot(), '.data'))
const stops: { name: string; stop: () => Promise<void> }[] = []
const log = (line: string) => console.log(`[stampede] ${line}`)

async function main(): Promise<void> {
  await mkdir(dataDir, { recursive: true })
  log(`data directory: ${dataDir}`)
  const childEnv: Record<string, string> = {}
  const host = embeddedServicesHost(env)
  log(`embedded services listen on ${host}${isPlatformHost(host) ? ' (reserved for the platform: k6 scripts cannot reach it)' : ''}`)

  const [k6, temporalBin] = await Promise.all([resolveTool('k6', { log }), settings.temporalAddress ? undefined : resolveTool('temporal', { log })])
  log(`k6 ${k6.version} (${k6.source}): ${k6.path}`)
  childEnv.K6_BIN_PATH = k6.path

  if (temporalBin) {
    const temporal = await startTemporalDevServer({
      binPath: temporalBin.path,
      host,
      port: settings.temporalDevPort,
      uiPort: settings.temporalUiPort,
      dbFile: path.join(dataDir, 'temporal.db'),
      log,
    })
    stops.push({ name: 'Temporal dev server', stop: temporal.stop })
    childEnv.TEMPORAL_ADDRESS = temporal.address
    log(`Temporal dev server: ${temporal.address}${temporal.uiUrl ? ` (UI ${temporal.uiUrl})` : ''}`)
  }

  if (!settings.databaseUrl) {
    const pg = await startPostgres(path.join(dataDir, 'postgres'), host)
    stops.push({ name: 'embedded PostgreSQL', stop: pg.stop })
    childEnv.DATABASE_URL = pg.url
    log(describeStart(pg))
    log(`embedded PostgreSQL: ${redactUrl(pg.url)}`)
  }
  const databaseUrl = childEnv.DATABASE_URL ?? settings.databaseUrl!
  const migrated = await migrate(databaseUrl, { log })
  log(`database migrated (${migrated.applied.length} applied, ${migrated.alreadyApplied} already applied)`)

  if (!settings.s3Endpoint) {
    const s3 = await startEmbeddedS3({ dir: path.join(dataDir, 's3'), host, port: settings.embeddedS3Port, bucket: settings.s3Bucket })
    stops.push({ name: 'embedded S3', stop: s3.stop })
    Object.assign(childEnv, {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_REGION: s3.region,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    })
    log(`embedded S3: ${s3.endpoint} (bucket ${s3.bucket})`)
  }

  if (!settings.secretsKey) childEnv.SECRETS_KEY = await localSecretsKey()

  const concurrency = devConcurrency(settings.k6MaxConcurrency)
  childEnv.K6_MAX_CONCURRENCY = concurrency.value
  log(concurrency.reason)

  const { webPort } = settings
  const merged = {
    // Single-machine mode: k6 may reach loopback so local demos work (private ranges stay blocked).
    ALLOW_LOOPBACK_TARGETS: 'true',
    WEB_ORIGIN: `http://127.0.0.1:${webPort},http://localhost:${webPort}`,
    WEB_PUBLIC_URL: `http://127.0.0.1:${webPort}`,
    ...env,
    ...childEnv,
    // Runs' private directories are transient and must be reachable by the k6 sandboxes' users,
    // which a checkout under a private home directory is not: the runner's default ($TMPDIR/stampede-runs).
  }
  const api = await createServer(loadApiConfig(merged))
  const apiUrl = await api.start()
  stops.push({ name: 'API', stop: api.stop })

  // Runners redeem runs' secrets grants at the API: at the address it listens on, unless told otherwise.
  const runner = await createRunner(loadRunnerConfig({ API_PUBLIC_URL: apiUrl, ...merged }), { log: (line) => log(`runner: ${line}`) })
  stops.push({ name: 'runner', stop: runner.shutdown })

  const web = startWeb(mode, webPort, apiUrl)
  stops.push({ name: 'web', stop: () => stopChild(web) })

  console.log('')
  log(`API:    ${apiUrl}  (tRPC ${apiUrl}/trpc, health ${apiUrl}/healthz)`)
  log(`Web UI: http://127.0.0.1:${webPort}`)
  if (api.services.config.allowLoopbackTargets) {
    log(`Targets: loopback allowed (single-machine mode) except the platform's ${PLATFORM_LOOPBACK_CIDR}; private and cloud-metadata addresses blocked.`)
  }
  if (api.bootstrapLink) {
    log('No account exists yet. Create the first admin with this one-time link (valid 24 h):')
    log(`  ${api.bootstrapLink}`)
  }
  log('Ctrl-C stops everything.')
}

/**
 * The embedded PostgreSQL on `dir`. A cluster of another major version there (such as the one
 * the earlier PGlite-based embedded database wrote, PostgreSQL 17) is moved aside, kept as it
 * was, and a new one is created.
 */
async function startPostgres(dir: string, host: string): Promise<EmbeddedPostgres> {
  const start = () => startEmbeddedPostgres({ dataDir: dir, host, port: settings.embeddedPostgresPort, log })
  try {
    return await start()
  } catch (err) {
    if (!(err instanceof ClusterVersionError)) throw err
    const aside = `${dir}-${err.clusterMajor}-${new Date().toISOString().replace(/[:.]/g, '-')}`
    await rename(dir, aside)
    log(`${dir} held a PostgreSQL ${err.clusterMajor} cluster, which PostgreSQL ${err.serverVersion} cannot open: moved it to ${aside}; starting with an empty database`)
    return start()
  }
}

function isPlatformHost(host: string): boolean {
  return blockingRange(host, [PLATFORM_LOOPBACK_CIDR]) !== undefined
}

/** The key test secrets are encrypted with, generated once into the data directory (mode 0600). */
async function localSecretsKey(): Promise<string> {
  const file = path.join(dataDir, 'secrets.key')
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim()
  const key = generateSecretsKey()
  await writeFile(file, key + '\n', { mode: 0o600, flag: 'wx' })
  log(`generated the secrets key: ${file} (set SECRETS_KEY to use your own; losing it makes stored secrets unreadable)`)
  return key
}

function startWeb(how: 'dev' | 'production', port: string, apiUrl: string): ChildProcess {
  const webDir = path.join(repoRoot(), 'apps/web')
  const webEnv = { ...env, PORT: port, HOST: '127.0.0.1', PUBLIC_STAMPEDE_API_URL: apiUrl, ORIGIN: `http://127.0.0.1:${port}` }
  const built = path.join(webDir, 'build/index.js')
  const child =
    how === 'production' && existsSync(built)
      ? spawn(process.execPath, [built], { cwd: webDir, env: webEnv, stdio: 'inherit' })
      : spawn(process.execPath, [path.join(repoRoot(), 'node_modules/vite/bin/vite.js'), 'dev', '--host', '127.0.0.1', '--port', port, '--strictPort'], {
          cwd: webDir,
          env: webEnv,
          stdio: 'inherit',
        })
  child.on('exit', (code, signal) => {
    if (!shuttingDown) log(`web app exited (${code ?? signal}); the API is still up`)
  })
  return child
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

let shuttingDown = false
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return
  shuttingDown = true
  log('stopping…')
  for (const { name, stop } of stops.reverse()) {
    await stop().catch((err: unknown) => console.error(`[stampede] stopping ${name} failed: ${(err as Error).message}`))
  }
  process.exit(code)
}

process.once('SIGINT', () => void shutdown(0))
process.once('SIGTERM', () => void shutdown(0))
main().catch((err: unknown) => {
  console.error(`[stampede] could not start: ${err instanceof Error ? err.message : String(err)}`)
  void shutdown(1)
})
