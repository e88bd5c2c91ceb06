// The sandbox with the real bubblewrap and the real k6: what a script can see and write, and
// each limit ending k6 the way the platform reports it.
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveTool } from '@stampede/tools'
import { bytesFile, fileSizeHit, K6_OUTPUTS, K6Sandbox, limitFromExit, MiB, spawnPlan, type K6Limits, type K6Purpose, type LayoutFile, type LimitSettings, type ProcessExit } from '../src/index.ts'

const SETTINGS: LimitSettings = { memory: 'K6_RUN_MEMORY_MB', cpu: 'K6_VALIDATION_CPU_SECONDS', threads: 'K6_MAX_THREADS', fileSize: 'K6_MAX_FILE_MB' }
const LIMITS: K6Limits = { memoryBytes: 512 * MiB, threads: 256, fileBytes: 8 * MiB }

let sandbox: K6Sandbox
let root: string
let hostSecret: string

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'stampede-sandbox-test-'))
  // mkdtemp makes it 0700; the sandboxes' users must be able to pass through it.
  await chmod(root, 0o711)
  // A file of the host, next to the sandboxes' directories: no script may read it.
  hostSecret = path.join(root, 'host-secret.key')
  await writeFile(hostSecret, 'host-secret-value-9f2c', { mode: 0o644 })
  sandbox = await K6Sandbox.create({ mode: 'bubblewrap', k6BinPath: (await resolveTool('k6')).path, root: path.join(root, 'work'), log: () => {} })
}, 120_000)

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

interface Ran {
  exit: ProcessExit
  stdout: string[]
  stderr: string[]
  dir: string
}

async function runK6(script: string, k6: { purpose: K6Purpose; flags?: string[] }, opts: { limits?: Partial<K6Limits>; writable?: string[]; vars?: Record<string, string>; onStart?: (p: ReturnType<typeof spawnPlan>) => void; watchRss?: boolean; files?: LayoutFile[] } = {}): Promise<Ran> {
  const dir = await sandbox.makeDir('t-')
  await sandbox.prepare(dir, 'script.js', script, opts.files)
  const plan = sandbox.plan({ dir, invocation: { ...k6, scriptFile: 'script.js', vars: opts.vars ?? {} }, limits: { ...LIMITS, ...opts.limits }, writable: opts.writable ?? [] })
  const stdout: string[] = []
  const stderr: string[] = []
  const limits = { ...LIMITS, ...opts.limits }
  const proc = spawnPlan(plan, { onLine: (stream, text) => (stream === 'stdout' ? stdout : stderr).push(text), ...(opts.watchRss === false ? {} : { maxRssBytes: limits.memoryBytes }) })
  opts.onStart?.(proc)
  const exit = await proc.exited
  return { exit, stdout, stderr, dir: dir.path }
}

const run = (script: string, opts: Parameters<typeof runK6>[2] = {}) => runK6(script, { purpose: 'run', flags: ['--quiet'] }, opts)

describe('the k6 sandbox', () => {
  it('reports bubblewrap mode', () => {
    expect(sandbox.status().mode).toBe('bubblewrap')
    expect(sandbox.status().threadsLimited).toBe(process.getuid?.() === 0)
  })

  it('shows a script nothing of the host: not its files, its passwd, its processes or the platform environment', async () => {
    const paths = ['/etc/passwd', '/etc/shadow', hostSecret, `../${path.basename(hostSecret)}`, '../../host-secret.key', '/proc/1/environ', '/proc/self/environ', '/proc/self/mountinfo', '/root/.bashrc', process.cwd() + '/package.json']
    const script = `
      const paths = ${JSON.stringify(paths)}
      const seen = {}
      for (const p of paths) { try { seen[p] = 'READ ' + open(p).slice(0, 80) } catch (e) { seen[p] = 'refused' } }
      export default function () { console.log(JSON.stringify({ seen, home: __ENV.HOME, env: Object.keys(__ENV).sort() })) }`
    const { exit, stderr } = await run(script, { vars: { PLAIN: 'x' } })
    expect(exit).toEqual({ code: 0, signal: null })
    const line = stderr.find((l) => l.includes('seen'))!
    const report = JSON.parse(JSON.parse(`"${/msg="(.*)" source=console/.exec(line)![1]}"`)) as { seen: Record<string, string>; home: string; env: string[] }
    for (const p of paths) expect(report.seen[p], p).toBe('refused')
    expect(report.home).toBe('/work')
    // Only the run's variables and the platform's k6 settings: nothing of this process's environment.
    expect(report.env).toEqual(['HOME', 'K6_AUTO_EXTENSION_RESOLUTION', 'K6_NO_USAGE_REPORT', 'K6_STAMPEDE_MAX_SERIES', 'K6_WEB_DASHBOARD_EXPORT', 'K6_WEB_DASHBOARD_PERIOD', 'K6_WEB_DASHBOARD_PORT', 'PATH', 'PLAIN', 'PWD', 'TMPDIR'])
    expect(stderr.join('\n')).not.toContain('host-secret-value')
  })

  it('shows a script the same __ENV, HOME, working directory and files in validation (k6 inspect) and in a run (k6 run)', async () => {
    // Init code runs in both; it reports what it sees on its first run.
    const script = `
      const files = {}
      for (const f of ${JSON.stringify(['script.js', 'script.ts', ...K6_OUTPUTS, ...K6_OUTPUTS.map((o) => `../${o}`), 'other.txt'])}) { try { open(f); files[f] = 'present' } catch (e) { files[f] = 'absent' } }
      console.log('SEEN ' + JSON.stringify({ env: __ENV, files }))
      export const options = { iterations: 1 }
      export default function () {}`
    const vars = { BASE_URL: 'http://x', TOKEN: 'stand-in' }
    const seen = async (purpose: K6Purpose) => {
      const { stderr } = await runK6(script, { purpose, ...(purpose === 'inspect' ? { flags: ['--log-format=json', '--execution-requirements'] } : {}) }, { vars, ...(purpose === 'run' ? { writable: ['summary.json'] } : {}) })
      const line = stderr.find((l) => l.includes('SEEN '))!
      const msg = purpose === 'inspect' ? (JSON.parse(line) as { msg: string }).msg : (JSON.parse(`"${/msg="(.*)" source=console/.exec(line)![1]}"`) as string)
      return JSON.parse(msg.slice(msg.indexOf('SEEN ') + 5)) as { env: Record<string, string>; files: Record<string, string> }
    }
    const inspected = await seen('inspect')
    const ran = await seen('run')
    expect(inspected).toEqual(ran)
    expect(ran.env).toMatchObject({ ...vars, HOME: '/work', TMPDIR: '/work', PWD: '/work', PATH: '/usr/bin:/bin' })
    // The script's folder holds the test alone; k6's output files are one level up, in both.
    expect(ran.files).toMatchObject({ 'script.js': 'present', 'script.ts': 'absent', 'summary.json': 'absent', '../summary.json': 'present', '../samples.json.gz': 'present', 'other.txt': 'absent' })
  })

  it("lays out a test's files at their paths beside the script, read-only, where open() and local imports find them", async () => {
    const files = [
      bytesFile('data/users.json', Buffer.from('[{"name":"ada"}]')),
      bytesFile('lib/deep/helper.js', Buffer.from(`export const greet = (n) => 'hello ' + n\nexport const extra = open('../../data/users.json')`)),
    ]
    const script = `
      import { greet, extra } from './lib/deep/helper.js'
      const users = JSON.parse(open('./data/users.json'))
      export default function () { console.log('SAW ' + greet(users[0].name) + ' ' + JSON.parse(extra).length) }
      export function handleSummary() { return { 'test/data/users.json': 'overwritten' } }`
    const { exit, stderr, dir } = await run(script, { files, writable: ['summary.json'] })
    expect(exit).toEqual({ code: 0, signal: null })
    expect(stderr.join('\n')).toContain('SAW hello ada 1')
    expect(await readFile(path.join(dir, 'test/data/users.json'), 'utf8')).toBe('[{"name":"ada"}]')
  })

  it('gives validation no network at all (a remote module is never fetched), and a run the host\'s', async () => {
    // A TCP listener on the host's loopback that counts connections.
    let connections = 0
    const server = net.createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    try {
      const script = `import { x } from 'https://127.0.0.1:${port}/module.js'\nexport default function () {}`
      const inspected = await runK6(script, { purpose: 'inspect', flags: ['--log-format=json'] })
      expect(inspected.exit.code).not.toBe(0)
      expect(inspected.stderr.join('\n')).toMatch(/couldn't be retrieved|network is unreachable|connection refused/)
      expect(connections).toBe(0)
      await run(script)
      expect(connections).toBeGreaterThan(0)
    } finally {
      server.close()
    }
  })

  it('refuses to lay out a file name that could leave the test folder', async () => {
    for (const bad of ['../escape.txt', '/etc/passwd', 'a/../../x', 'script.js', 'bad\u0000name']) {
      const dir = await sandbox.makeDir('t-')
      await expect(sandbox.prepare(dir, 'script.js', 'export default function () {}', [bytesFile(bad, Buffer.from('x'))]), bad).rejects.toThrow(/cannot be laid out/)
      await expect(stat(path.join(path.dirname(dir.path), 'escape.txt'))).rejects.toThrow()
      await rm(dir.base, { recursive: true, force: true })
    }
  })

  it('lets k6 write only the output files it was given', async () => {
    const script = `
      export default function () {}
      export function handleSummary() { return { 'summary.json': '{"ok":true}', 'other.txt': 'x', '/evil.txt': 'x', '/tmp/evil': 'x', '/dev/shm/evil': 'x', '../escape.txt': 'x' } }`
    const { stderr, dir } = await run(script, { writable: ['summary.json'] })
    expect(await readFile(path.join(dir, 'summary.json'), 'utf8')).toBe('{"ok":true}')
    const text = stderr.join('\n')
    for (const f of ['other.txt', '/evil.txt', '/tmp/evil', '/dev/shm/evil', '../escape.txt']) expect(text).toMatch(new RegExp(`could not open '${f.replace(/[.*/]/g, '\\$&')}'`))
    await expect(stat(path.join(dir, 'other.txt'))).rejects.toThrow()
    await expect(stat(path.join(path.dirname(dir), 'escape.txt'))).rejects.toThrow()
  })

  it('kills k6 when its resident memory passes the memory limit, with a message naming it', async () => {
    const script = `const parts = []; for (let i = 0; i < 4000; i++) parts.push('x'.repeat(1 << 20) + i)
      export default function () { console.log(parts.length) }`
    const { exit, stderr } = await run(script, { limits: { memoryBytes: 256 * MiB } })
    expect(exit.rssLimitHit).toBeGreaterThan(256 * MiB)
    const hit = limitFromExit(stderr, exit, { ...LIMITS, memoryBytes: 256 * MiB }, SETTINGS)
    expect(hit?.limit).toBe('memory')
    expect(hit?.message).toContain('256 MB (K6_RUN_MEMORY_MB)')
  }, 60_000)

  it('stops allocations faster than the memory check at the address-space limit', async () => {
    // Large buffers reserve address space at once; the kernel refuses it before any check runs.
    const script = `const parts = []; for (let i = 0; i < 4000; i++) parts.push(new ArrayBuffer(1 << 26))
      export default function () { console.log(parts.length) }`
    const { exit, stderr } = await run(script, { limits: { memoryBytes: 256 * MiB }, watchRss: false })
    expect(exit.code).toBe(2)
    expect(stderr.join('\n')).toMatch(/fatal error: out of memory/)
    expect(limitFromExit(stderr, exit, { ...LIMITS, memoryBytes: 256 * MiB }, SETTINGS)?.limit).toBe('memory')
  }, 60_000)

  it('ends k6 at the thread limit', async () => {
    const { exit, stderr } = await run('export default function () {}', { limits: { threads: 3 } })
    if (!sandbox.status().threadsLimited) {
      // Without a user per sandbox the limit is not applied (documented); k6 runs.
      expect(exit.code).toBe(0)
      return
    }
    expect(exit.code).not.toBe(0)
    expect(limitFromExit(stderr, exit, { ...LIMITS, threads: 3 }, SETTINGS)?.limit).toBe('threads')
  })

  it('stops writes at the file size limit', async () => {
    const script = `export default function () {}
      export function handleSummary() { return { 'summary.json': 'y'.repeat(3 * 1024 * 1024) } }`
    const { dir } = await run(script, { writable: ['summary.json'], limits: { fileBytes: MiB } })
    const size = (await stat(path.join(dir, 'summary.json'))).size
    expect(size).toBe(MiB)
    expect(fileSizeHit('summary.json', size, { ...LIMITS, fileBytes: MiB }, SETTINGS)?.message).toContain('1 MB (K6_MAX_FILE_MB)')
  })

  it('kills k6 at the CPU limit', async () => {
    const { exit, stderr } = await runK6('for (;;) {}\nexport default function () {}', { purpose: 'inspect' }, { limits: { cpuSeconds: 1 } })
    expect(exit.signal).toBe('SIGKILL')
    expect(limitFromExit(stderr, exit, { ...LIMITS, cpuSeconds: 1 }, SETTINGS)?.limit).toBe('cpu')
  }, 30_000)

  it('delivers SIGINT to k6 so it stops gracefully (exit 105)', async () => {
    const script = `export const options = { vus: 1, duration: '30s' }
      export default function () { const t = Date.now(); while (Date.now() - t < 50) {} }`
    let sent = false
    const { exit } = await run(script, {
      onStart: (proc) => {
        const timer = setInterval(() => {
          // k6 prints nothing in --quiet mode: send once its process exists.
          if (sent) return clearInterval(timer)
          sent = true
          setTimeout(() => proc.signal('SIGINT'), 1500)
        }, 10)
      },
    })
    expect(exit).toEqual({ code: 105, signal: null })
  }, 30_000)

  it('cuts a gigantic line instead of buffering it', async () => {
    const { stderr } = await run(`export default function () { console.log('z'.repeat(3 * 1024 * 1024)) }`)
    const long = stderr.find((l) => l.includes('zzzz'))!
    expect(Buffer.byteLength(long)).toBeLessThan(70 * 1024)
    expect(long).toContain('[line cut at 64 KB]')
  })

  it('reports a sandbox that cannot start as a sandbox error, not a k6 exit', async () => {
    const dir = await sandbox.makeDir('t-')
    await sandbox.seal(dir)
    // A writable file that does not exist cannot be bound.
    const plan = sandbox.plan({ dir, invocation: { purpose: 'inspect', scriptFile: 'script.js', vars: {} }, limits: LIMITS, writable: ['missing.json'] })
    const exit = await spawnPlan(plan, { onLine: () => {} }).exited
    expect(exit.sandboxError).toMatch(/missing\.json/)
  })
})
