// The whole platform as separate processes on real parts, for fault tests (issue 12): a Temporal
// dev server persisting to a SQLite file on a fixed address (so it can be SIGKILLed and started
// again with its state), the machine's Postgres and an embedded S3-compatible server each
// behind a TCP proxy (so either can be cut off and given back), the API and any number of
// runners as child processes (`node --import tsx …/main.ts`, as `npm start` runs them) that can
// be SIGKILLed, stopped and started again, and the real k6.
//
// Unlike stack.ts nothing of the platform runs in the test's process: a SIGKILL takes a part
// down the way a crash or an OOM kill would. Temporal, S3 and both proxies listen on the
// platform's reserved loopback address (127.77.0.1 on Linux), out of k6's reach; the API
// listens on 127.0.0.1 as in stack.ts.
//
// Each child's stdout and stderr go to <tmp>/logs/<name>.log (appended across restarts, with a
// line per start and exit); `logs(name)` reads one back, `allLogs()` all of them, for a failing
// test to print.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync, readFileSync, readdirSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { createTestDatabase } from '@stampede/db/testing'
import { embeddedServicesHost, freePort, startEmbeddedS3, startTemporalDevServer, type TemporalDevServer } from '@stampede/devstack'
import { repoRoot, resolveTool } from '@stampede/tools'

import { bootstrapAdmin, type Api, type SessionClient } from './clients.ts'
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts'
import { waitUntil } from './wait.ts'

export type { Api } from './clients.ts'
export type { TcpProxy } from './tcp-proxy.ts'

export { ADMIN } from './clients.ts'

/** How long a child may take to be ready (a runner bundles its workflow code with webpack). */
const READY_TIMEOUT_MS = 90_000
/** stopApi/stopRunner: SIGTERM, then SIGKILL after this (a runner's workers have 30 s of grace). */
const STOP_GRACE_MS = 40_000
/** Names logs() knows besides the runners'. */
const RESERVED = ['api', 'temporal'] as const

export interface FaultStackOptions {
  /** LOCATIONS for the API and every runner. */
  locations?: string
  /** Environment of the first runner (started as `runner`); `false` starts none. */
  runner?: Record<string, string> | false
  /** Extra API environment (kept across startApi()). */
  api?: Record<string, string>
}

export interface FaultStack {
  apiUrl: string
  wsUrl: string
  /** The address Temporal, S3 and both proxies listen on. */
  servicesHost: string
  /** Authenticates the console WebSocket with the admin token. */
  wsHeaders: Record<string, string>
  bootstrapToken: string
  /** The bootstrapped admin's API token (scope admin) on the Default project. */
  token: string
  api: Api
  projectId: string
  /** The bootstrapped admin's signed-in session. */
  admin: SessionClient
  /** The environment the API and every runner get (DATABASE_URL and S3_ENDPOINT are the proxies). */
  env: Record<string, string>
  /** The stack's temporary directory (0711): logs/, s3/, temporal/, runners/<name>/work. */
  tmp: string

  /** Postgres through its proxy: `url` is the proxied DATABASE_URL, `directUrl` bypasses it. */
  db: TcpProxy & { url: string; directUrl: string; name: string }
  /** The embedded S3 through its proxy: `endpoint` is the proxied S3_ENDPOINT. */
  s3: TcpProxy & { endpoint: string; directEndpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string }
  temporal: {
    /** host:port of the frontend; the same across restarts. */
    address: string
    namespace: string
    /** The SQLite file that carries its state across restarts. */
    dbFile: string
    /** The dev server's process id while it runs. */
    readonly pid: number | undefined
  }
  /** SIGKILLs the Temporal dev server (and closes the devstack's 127.0.0.1 relays it used). */
  killTemporal(): Promise<void>
  /** Starts it again on the same address and database file; resolves when it answers. */
  restartTemporal(): Promise<void>

  /** The API's process id while it runs. */
  readonly apiPid: number | undefined
  /**
   * Starts the API (same port, same environment). Resolves once it printed its "listening" line
   * and answers HTTP; with `readyOn: 'http'`, as soon as it answers HTTP (the line comes only
   * after the API's start-up talk with Temporal, ~20 s later while Temporal is down).
   */
  startApi(extraEnv?: Record<string, string>, opts?: { readyOn?: 'listening' | 'http' }): Promise<void>
  /** SIGKILLs the API and waits until the process is gone. */
  killApi(): Promise<void>
  /** SIGTERMs the API and waits for it to exit (SIGKILL after a grace period). */
  stopApi(): Promise<void>

  /** Starts runner `name` (its RUNNER_WORK_DIR is the same on every start); resolves when it polls. */
  startRunner(name: string, extraEnv?: Record<string, string>): Promise<void>
  /**
   * Starts runner `name` as a location runner for `location` alone, as one runs on another
   * machine: its environment holds Temporal's settings and its own, and no database URL, storage
   * keys or secrets key.
   */
  startLocationRunner(name: string, location: string, extraEnv?: Record<string, string>): Promise<void>
  killRunner(name: string): Promise<void>
  stopRunner(name: string): Promise<void>
  runnerPid(name: string): number | undefined
  /** The runner's RUNNER_WORK_DIR. */
  runnerWorkDir(name: string): string

  /**
   * Undoes every fault: restores both proxies, restarts Temporal if it was killed, and starts
   * again the API and every runner that is down but was not stopped on purpose (killed, or
   * crashed; not stopApi/stopRunner), with the extra environment of its last start. For an
   * afterEach, so that one failed test does not leave the next one a fault.
   */
  heal(): Promise<void>
  /** Resolves once the API says every running runner is present (its presence heartbeat is live) for the locations it serves. */
  runnersPresent(): Promise<void>

  /** Output of `api`, `temporal` or a runner (by name) so far; '' when there is none. */
  logs(name: string): string
  /** Every log, each under a header, for a failing test to print. */
  allLogs(): string
  /** Kills every process the stack started and removes its databases and files. */
  stop(): Promise<void>
}

export async function startFaultStack(opts: FaultStackOptions = {}): Promise<FaultStack> {
  const cleanups: (() => Promise<void>)[] = []
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'stampede-fault-'))
  // The k6 sandboxes' users must be able to pass through to the runners' work directories.
  await chmod(tmp, 0o711)
  cleanups.push(() => rm(tmp, { recursive: true, force: true }))
  const logDir = path.join(tmp, 'logs')
  await mkdir(logDir, { recursive: true })
  const logFile = (name: string) => path.join(logDir, `${name}.log`)
  const note = (name: string, line: string) => appendFileSync(logFile(name), `=== ${new Date().toISOString()} ${line}\n`)

  // Children are SIGKILLed should this process end without stop() (a crashed test run).
  const children = new Map<string, Child>()
  const killAllOnExit = () => {
    for (const c of children.values()) c.process.kill('SIGKILL')
  }
  process.once('exit', killAllOnExit)

  let temporal: TemporalDevServer | undefined
  try {
    const [temporalBin, k6Bin] = await Promise.all([resolveTool('temporal'), resolveTool('k6')])
    const servicesHost = embeddedServicesHost()
    const temporalPort = await freePort(servicesHost)
    const temporalDbFile = path.join(tmp, 'temporal', 'temporal.db')
    const startTemporal = async (): Promise<TemporalDevServer> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await startTemporalDevServer({ binPath: temporalBin.path, host: servicesHost, port: temporalPort, dbFile: temporalDbFile, log: (line) => appendFileSync(logFile('temporal'), `${line}\n`) })
        } catch (err) {
          // The devstack retries a relay port taken by another program only when it picks the
          // frontend port itself; ours is fixed, so retry here (the internal ports are new each time).
          if (attempt >= 3 || !/is in use by another program/.test((err as Error).message)) throw err
          appendFileSync(logFile('temporal'), `=== ${(err as Error).message}; starting again\n`)
        }
      }
    }

    const [started, s3Server, database] = await Promise.all([
      startTemporal(),
      startEmbeddedS3({ dir: path.join(tmp, 's3'), host: servicesHost, bucket: 'stampede' }),
      createTestDatabase(),
    ])
    temporal = started
    cleanups.push(
      () => database.drop(),
      () => s3Server.stop(),
      async () => {
        await temporal?.stop()
        temporal = undefined
      },
    )

    const s3Url = new URL(s3Server.endpoint)
    const s3Proxy = await startTcpProxy({ listenHost: servicesHost, target: { host: s3Url.hostname, port: Number(s3Url.port) } })
    cleanups.push(() => s3Proxy.stop())
    const dbUrl = new URL(database.url)
    const dbProxy = await startTcpProxy({ listenHost: servicesHost, target: { host: dbUrl.hostname, port: Number(dbUrl.port || 5432) } })
    cleanups.push(() => dbProxy.stop())
    const proxiedDbUrl = new URL(database.url)
    proxiedDbUrl.hostname = dbProxy.host
    proxiedDbUrl.port = String(dbProxy.port)
    const s3Endpoint = `http://${s3Proxy.host}:${s3Proxy.port}`

    const env: Record<string, string> = {
      DATABASE_URL: proxiedDbUrl.toString(),
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      S3_ENDPOINT: s3Endpoint,
      S3_BUCKET: s3Server.bucket,
      S3_REGION: s3Server.region,
      S3_ACCESS_KEY_ID: s3Server.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3Server.secretAccessKey,
      K6_BIN_PATH: k6Bin.path,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      // Single-machine mode: the targets tests start listen on 127.0.0.1.
      ALLOW_LOOPBACK_TARGETS: 'true',
      ...(opts.locations ? { LOCATIONS: opts.locations } : {}),
    }
    const bootstrapToken = randomBytes(24).toString('base64url')
    const apiPort = await freePort('127.0.0.1')
    const apiUrl = `http://127.0.0.1:${apiPort}`
    const apiEnv: Record<string, string> = {
      ...env,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      BOOTSTRAP_TOKEN: bootstrapToken,
      API_TOKEN_RATE_LIMIT: '100000',
      VALIDATION_RATE_LIMIT: '100000',
      ...opts.api,
    }

    // Pushed last, so run first: the children go before what they use.
    cleanups.push(async () => {
      process.off('exit', killAllOnExit)
      await Promise.all([...children.values()].map((c) => c.kill('SIGKILL')))
    })
    const root = repoRoot()
    const start = async (name: string, app: 'api' | 'runner', childEnv: Record<string, string>, ready: ReadyCheck) => {
      const running = children.get(name)
      if (running && !running.exit) throw new Error(`${name} is running already (pid ${running.process.pid})`)
      const child = spawnChild(name, path.join(root, 'apps', app), childEnv, logFile(name), note)
      children.set(name, child)
      await child.ready(ready, READY_TIMEOUT_MS)
    }
    const childOf = (name: string) => {
      const child = children.get(name)
      if (!child) throw new Error(`${name} was never started`)
      return child
    }

    // The extra environment of each child's last start, and the children not stopped on
    // purpose since, for heal().
    const lastExtra = new Map<string, Record<string, string>>()
    const wanted = new Set<string>()
    const lastBase = new Map<string, Record<string, string>>()
    const startApi = async (extraEnv: Record<string, string> = {}, startOpts: { readyOn?: 'listening' | 'http' } = {}) => {
      lastExtra.set('api', extraEnv)
      wanted.add('api')
      await start('api', 'api', { ...apiEnv, ...extraEnv }, {
        ...(startOpts.readyOn === 'http' ? {} : { line: /\[api\] listening on / }),
        // Any HTTP answer will do: /healthz answers 503 while a part it checks is down.
        probe: async () => {
          await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(5_000) })
          return true
        },
      })
    }

    const runnerWorkDir = (name: string) => path.join(tmp, 'runners', name, 'work')
    const startRunner = async (name: string, extraEnv: Record<string, string> = {}, base: Record<string, string> = env) => {
      if ((RESERVED as readonly string[]).includes(name) || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
        throw new Error(`runner name "${name}": use lower-case letters, digits and dashes, and not ${RESERVED.join(' or ')}`)
      }
      const workDir = runnerWorkDir(name)
      await mkdir(workDir, { recursive: true })
      // Every directory on the way must let the sandbox users through.
      for (const dir of [path.join(tmp, 'runners'), path.dirname(workDir), workDir]) await chmod(dir, 0o711)
      lastExtra.set(name, extraEnv)
      lastBase.set(name, base)
      wanted.add(name)
      // API_PUBLIC_URL: where an orchestrating runner tells location runners to redeem secrets grants.
      await start(name, 'runner', { ...base, ...(base === env ? { API_PUBLIC_URL: apiUrl } : {}), RUNNER_WORK_DIR: workDir, ...extraEnv }, { line: /^\[runner\] (.*: )?polling / })
    }
    const startLocationRunner = (name: string, location: string, extraEnv: Record<string, string> = {}) => {
      const only: Record<string, string> = {
        TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS!,
        TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE!,
        K6_BIN_PATH: env.K6_BIN_PATH!,
        ALLOW_LOOPBACK_TARGETS: 'true',
        ...(env.LOCATIONS ? { LOCATIONS: env.LOCATIONS } : {}),
        RUNNER_ORCHESTRATION: 'false',
        ENABLE_LOCATION_FILTERING: 'true',
        WORKER_LOCATION: location,
      }
      return startRunner(name, extraEnv, only)
    }

    await startApi()
    if (opts.runner !== false) await startRunner('runner', opts.runner ?? {})

    const { admin, projectId, token, api, wsHeaders } = await bootstrapAdmin(apiUrl, bootstrapToken, 'e2e-fault')

    const logs = (name: string) => {
      try {
        return readFileSync(logFile(name), 'utf8')
      } catch {
        return ''
      }
    }
    const temporalAddress = temporal.address
    const killTemporal = async () => {
      if (!temporal) throw new Error('the Temporal dev server is not running')
      const server = temporal
      temporal = undefined
      appendFileSync(logFile('temporal'), `=== ${new Date().toISOString()} SIGKILL pid ${server.pid}\n`)
      process.kill(server.pid, 'SIGKILL')
      // stop() of a killed server only waits for its exit and closes the relays on 127.0.0.1
      // that the next start opens afresh (on the new internal ports).
      await server.stop()
    }
    const restartTemporal = async () => {
      if (temporal) throw new Error(`the Temporal dev server is running (pid ${temporal.pid})`)
      appendFileSync(logFile('temporal'), `=== ${new Date().toISOString()} starting again on ${temporalAddress}\n`)
      temporal = await startTemporal()
    }
    const running = (name: string) => {
      const child = children.get(name)
      return child !== undefined && !child.exit
    }
    // A runner whose presence heartbeat lapsed (Temporal away longer than its timeout, or a
    // restart) takes a few seconds to beat again; the API says so per location.
    const runnersPresent = async () => {
      const runners = [...wanted].filter((name) => name !== 'api' && running(name))
      if (runners.length === 0) return
      await waitUntil('every running runner to be present again', async () => {
        const locations = await api.locations.list.query()
        // A location runner serves its WORKER_LOCATION; any other runner every location.
        const present = (name: string) => locations.filter((l) => [undefined, l.id].includes(lastBase.get(name)?.WORKER_LOCATION)).every((l) => l.runnerAvailable)
        return runners.every(present) ? true : undefined
      }, 60_000, 200)
    }
    return {
      apiUrl,
      wsUrl: apiUrl.replace(/^http/, 'ws'),
      servicesHost,
      wsHeaders,
      bootstrapToken,
      token,
      api,
      projectId,
      admin,
      env,
      tmp,
      db: Object.assign(dbProxy, { url: proxiedDbUrl.toString(), directUrl: database.url, name: database.name }),
      s3: Object.assign(s3Proxy, {
        endpoint: s3Endpoint,
        directEndpoint: s3Server.endpoint,
        bucket: s3Server.bucket,
        region: s3Server.region,
        accessKeyId: s3Server.accessKeyId,
        secretAccessKey: s3Server.secretAccessKey,
      }),
      temporal: {
        address: temporalAddress,
        namespace: temporal.namespace,
        dbFile: temporalDbFile,
        get pid() {
          return temporal?.pid
        },
      },
      killTemporal,
      restartTemporal,
      get apiPid() {
        return running('api') ? children.get('api')!.process.pid : undefined
      },
      startApi,
      killApi: () => childOf('api').kill('SIGKILL'),
      async stopApi() {
        wanted.delete('api')
        await childOf('api').stop(STOP_GRACE_MS)
      },
      startRunner: (name: string, extraEnv?: Record<string, string>) => startRunner(name, extraEnv),
      startLocationRunner,
      killRunner: (name) => childOf(name).kill('SIGKILL'),
      async stopRunner(name) {
        wanted.delete(name)
        await childOf(name).stop(STOP_GRACE_MS)
      },
      runnerPid(name) {
        return running(name) ? children.get(name)!.process.pid : undefined
      },
      runnerWorkDir,
      async heal() {
        await Promise.all([dbProxy.restore(), s3Proxy.restore()])
        if (!temporal) await restartTemporal()
        if (wanted.has('api') && !running('api')) await startApi(lastExtra.get('api'))
        for (const name of wanted) if (name !== 'api' && !running(name)) await startRunner(name, lastExtra.get(name), lastBase.get(name))
        // A test must not begin with its locations said to be without a runner.
        if (running('api')) await runnersPresent()
      },
      runnersPresent,
      logs,
      allLogs() {
        return readdirSync(logDir)
          .sort()
          .map((file) => `----- ${file} -----\n${logs(file.replace(/\.log$/, ''))}`)
          .join('\n')
      },
      async stop() {
        for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.warn(`cleanup: ${(err as Error).message}`))
      },
    }
  } catch (err) {
    // Keep what the children said: the error is all the caller gets.
    const said = (() => {
      try {
        return readdirSync(logDir).map((file) => `----- ${file} -----\n${readFileSync(path.join(logDir, file), 'utf8').split('\n').slice(-40).join('\n')}`).join('\n')
      } catch {
        return ''
      }
    })()
    for (const c of cleanups.reverse()) await c().catch(() => {})
    process.off('exit', killAllOnExit)
    if (said && err instanceof Error) err.message += `\n${said}`
    throw err
  }
}

interface ReadyCheck {
  /** A line of the child's output that says it is ready (none: the probe alone decides). */
  line?: RegExp
  /** Then this must resolve true (it may throw while not yet ready). */
  probe?: () => Promise<boolean>
}

interface Child {
  process: ChildProcess
  /** Set once the process has exited. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  exited: Promise<void>
  ready(check: ReadyCheck, timeoutMs: number): Promise<void>
  /** Sends `signal` (unless it has exited) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<void>
  /** SIGTERM, then SIGKILL after `graceMs`; waits for the exit. */
  stop(graceMs: number): Promise<void>
}

/** `node --import tsx src/main.ts` in `dir`, output to `file`. */
function spawnChild(name: string, dir: string, env: Record<string, string>, file: string, note: (name: string, line: string) => void): Child {
  // Only what a process needs from this one: the platform's settings are all in `env`, as
  // stack.ts passes only its own to loadApiConfig/loadRunnerConfig.
  const inherited: Record<string, string> = {}
  for (const key of ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'TEST_DATABASE_ADMIN_URL']) {
    const value = process.env[key]
    if (value !== undefined) inherited[key] = value
  }
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: dir, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  note(name, `started pid ${proc.pid ?? '(none)'}: node --import tsx src/main.ts in ${dir}`)
  // Written synchronously, line by line: once a line has been seen here, logs() shows it. The
  // platform's processes write little (k6's output goes to run logs, not here).
  const lines: string[] = []
  let waiter: (() => void) | undefined
  for (const stream of [proc.stdout!, proc.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      appendFileSync(file, `${line}\n`)
      lines.push(line)
      waiter?.()
    })
  }
  const child: Child = {
    process: proc,
    exit: undefined,
    exited: new Promise<void>((resolve) => {
      let done = false
      const finish = (why: string) => {
        if (done) return
        done = true
        note(name, why)
        resolve()
        waiter?.()
      }
      proc.on('error', (err) => {
        child.exit = { code: null, signal: null }
        finish(`could not start: ${err.message}`)
      })
      // 'close' comes once its output is read to the end; should a grandchild hold the pipes
      // open, the exit is enough after a moment.
      proc.on('exit', (code, signal) => {
        child.exit = { code, signal }
        const why = `pid ${proc.pid} exited: ${signal ? `killed by ${signal}` : `exit code ${code}`}`
        const timer = setTimeout(() => finish(`${why} (its output is still open)`), 2_000)
        proc.once('close', () => {
          clearTimeout(timer)
          finish(why)
        })
      })
    }),
    async ready(check, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      let lastError: unknown
      for (;;) {
        if (child.exit) {
          await child.exited
          throw new Error(`${name} exited before it was ready (${child.exit.signal ?? `exit code ${child.exit.code}`}); its output:\n${lines.slice(-40).join('\n')}`)
        }
        if (!check.line || lines.some((l) => check.line!.test(l))) {
          try {
            if (!check.probe || (await check.probe())) return
          } catch (err) {
            lastError = err
          }
        }
        if (Date.now() > deadline) {
          await child.kill('SIGKILL')
          throw new Error(`${name} was not ready within ${timeoutMs / 1000} s${lastError ? ` (last probe error: ${(lastError as Error).message})` : ''}; its output:\n${lines.slice(-40).join('\n')}`)
        }
        // Wake on the next line or exit, or poll the probe again shortly.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            waiter = undefined
            resolve()
          }, 100)
          waiter = () => {
            clearTimeout(timer)
            waiter = undefined
            resolve()
          }
        })
      }
    },
    async kill(signal) {
      if (!child.exit) {
        note(name, `${signal} pid ${proc.pid}`)
        proc.kill(signal)
      }
      await child.exited
    },
    async stop(graceMs) {
      if (child.exit) return child.exited
      const timer = setTimeout(() => {
        note(name, `still running ${graceMs / 1000} s after SIGTERM`)
        proc.kill('SIGKILL')
      }, graceMs)
      try {
        await child.kill('SIGTERM')
      } finally {
        clearTimeout(timer)
      }
    },
  }
  return child
}
