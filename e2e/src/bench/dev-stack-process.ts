// `npm run dev`'s process for tests: apps/stack's `stack` script (the same entry and Node
// flags, read from its package.json) plus --inspect=127.0.0.1:0, so a test can read the
// process's heap through the inspector protocol (inspector.ts) without any hook in the product.
// Everything it listens on gets a free port and its data lives in a temporary STAMPEDE_DATA_DIR;
// otherwise it runs on its embedded defaults: its own Temporal dev server, embedded PostgreSQL
// and embedded S3, the API, the runner and the web app's dev server, as `npm run dev` does.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { embeddedServicesHost, freePort } from '@stampede/devstack'
import { inspectorUrl } from './inspector.ts'
import { below, procCmdline, readProcs, type Proc } from './proc.ts'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const STACK_APP = path.join(REPO, 'apps/stack')
/** The file the embedded PostgreSQL keeps its generated superuser password in, inside its data directory (packages/devstack/src/postgres.ts). */
const PG_PASSWORD_FILE = 'stampede-password'
const KEEP_LINES = 300

/** `n` distinct free TCP ports on `host` (devstack's freePort, drawn again on a repeat). */
export async function freePorts(host: string, n: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < n) ports.add(await freePort(host))
  return [...ports]
}

/** apps/stack's `stack` script (`tsx <node flags…> src/stack.ts`) as [tsx's CLI, node flags, entry]. */
export function stackScript(): { tsx: string; nodeFlags: string[]; entry: string } {
  const pkg = JSON.parse(readFileSync(path.join(STACK_APP, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  const words = pkg.scripts.stack!.trim().split(/\s+/)
  if (words[0] !== 'tsx' || words.length < 2) throw new Error(`apps/stack's stack script is no longer \`tsx [node flags] <entry>\`: ${pkg.scripts.stack}`)
  return { tsx: path.join(REPO, 'node_modules/tsx/dist/cli.mjs'), nodeFlags: words.slice(1, -1), entry: words.at(-1)! }
}

export interface DevStackPorts {
  API_PORT: number
  WEB_PORT: number
  TEMPORAL_DEV_PORT: number
  TEMPORAL_UI_PORT: number
  EMBEDDED_POSTGRES_PORT: number
  EMBEDDED_S3_PORT: number
}

export interface DevStackProcess {
  /** The process the test started (tsx's CLI, which runs the stack in its child node process). */
  pid: number
  /** Its temporary root: STAMPEDE_DATA_DIR is `<root>/data`, the runner's work directory `<root>/work`. */
  root: string
  dataDir: string
  ports: DevStackPorts
  apiUrl: string
  /** The token of the first-admin link the stack printed. */
  bootstrapToken: string
  /** The embedded PostgreSQL's URL: the one the stack printed (redacted), with the password from the data directory. */
  databaseUrl: string
  /** The inspector WebSocket of the node process that runs the stack. */
  inspectorUrl: string
  /** What the stack printed at its start, up to "Ctrl-C stops everything." */
  startupLines: string[]
  /** Its last lines of output (stdout and stderr). */
  recent(): string[]
  /**
   * Ctrl-C as the stack understands it: SIGINT to the process the test started, which stops its
   * children itself. Resolves with its exit, and with the processes of the stack (those it had
   * started, and any process naming its temporary root or web port) still alive `graceMs` after
   * it exited, which are then killed.
   */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; leftovers: string[] }>
}

/** Extra environment for the stack (e.g. rate limits out of the way for a load); the ports and data directory are the helper's. */
export async function startDevStackProcess(opts: { env?: Record<string, string>; startTimeoutMs?: number } = {}): Promise<DevStackProcess> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'stampede-dev-soak-'))
  // The embedded PostgreSQL runs as the `postgres` user when we are root, and the k6 sandboxes'
  // users must reach the runner's work directory: both pass through this directory.
  await chmod(root, 0o711)
  const dataDir = path.join(root, 'data')
  const servicesHost = embeddedServicesHost()
  const [[API_PORT, WEB_PORT], [TEMPORAL_DEV_PORT, TEMPORAL_UI_PORT, EMBEDDED_POSTGRES_PORT, EMBEDDED_S3_PORT]] = await Promise.all([freePorts('127.0.0.1', 2), freePorts(servicesHost, 4)])
  const ports: DevStackPorts = { API_PORT: API_PORT!, WEB_PORT: WEB_PORT!, TEMPORAL_DEV_PORT: TEMPORAL_DEV_PORT!, TEMPORAL_UI_PORT: TEMPORAL_UI_PORT!, EMBEDDED_POSTGRES_PORT: EMBEDDED_POSTGRES_PORT!, EMBEDDED_S3_PORT: EMBEDDED_S3_PORT! }

  // The environment of a developer's shell: none of the settings that would replace an embedded
  // service (DATABASE_URL, TEMPORAL_ADDRESS, S3_ENDPOINT…), nor the test runner's own.
  const env: Record<string, string> = {}
  const dropped = /^(DATABASE_URL|TEST_DATABASE_ADMIN_URL|TEMPORAL_.*|S3_.*|SECRETS_KEY|LOCATIONS|BOOTSTRAP_TOKEN|K6_.*|RUNNER_.*|API_.*|WEB_.*|EMBEDDED_.*|STAMPEDE_.*|NODE_OPTIONS|NODE_ENV|VITEST.*|TEST)$/
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !dropped.test(k)) env[k] = v
  Object.assign(env, Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), {
    STAMPEDE_DATA_DIR: dataDir,
    // The runner's default ($TMPDIR/stampede-runs) is shared with any other stack on the machine;
    // this one's runs stay in (and are removed with) the test's directory.
    RUNNER_WORK_DIR: path.join(root, 'work'),
    ...opts.env,
  })

  const { tsx, nodeFlags, entry } = stackScript()
  const child: ChildProcess = spawn(process.execPath, [tsx, ...nodeFlags, '--inspect=127.0.0.1:0', entry], {
    cwd: STACK_APP,
    env,
    // A process group of its own: the last-resort cleanup can reach every process in it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const pid = child.pid!
  const recent: string[] = []
  const listeners = new Set<(line: string) => void>()
  const onLine = (line: string) => {
    recent.push(line)
    if (recent.length > KEEP_LINES) recent.shift()
    for (const l of listeners) l(line)
  }
  createInterface({ input: child.stdout! }).on('line', onLine)
  createInterface({ input: child.stderr! }).on('line', onLine)
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve((exitInfo = { code, signal })))
  })

  const startupLines: string[] = []
  let apiUrl: string | undefined
  let bootstrapToken: string | undefined
  let redactedDbUrl: string | undefined
  let wsUrl: string | undefined
  const cleanup = async () => {
    if (!exitInfo) {
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {
        // gone already
      }
    }
    await rm(root, { recursive: true, force: true }).catch(() => {})
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the dev stack did not start within ${(opts.startTimeoutMs ?? 180_000) / 1000} s`)), opts.startTimeoutMs ?? 180_000)
      const done = (err?: Error) => {
        clearTimeout(timer)
        listeners.delete(listener)
        if (err) reject(err)
        else resolve()
      }
      const listener = (line: string) => {
        wsUrl ??= inspectorUrl(line)
        if (!line.startsWith('[stampede]')) return
        startupLines.push(line)
        apiUrl ??= /^\[stampede\] API:\s+(http\S+)/.exec(line)?.[1]
        redactedDbUrl ??= /^\[stampede\] embedded PostgreSQL: (postgres\S+)/.exec(line)?.[1]
        bootstrapToken ??= /\/setup#token=(\S+)/.exec(line)?.[1]
        if (line.includes('could not start')) done(new Error(line))
        if (line.includes('Ctrl-C stops everything')) done()
      }
      listeners.add(listener)
      void exited.then(({ code, signal }) => done(new Error(`the dev stack exited while starting (${signal ?? `code ${code}`})`)))
    })
    if (!apiUrl || !bootstrapToken || !redactedDbUrl || !wsUrl) {
      throw new Error(`the dev stack's output lacks ${[!apiUrl && 'its API URL', !bootstrapToken && 'the first-admin link', !redactedDbUrl && 'the embedded PostgreSQL URL', !wsUrl && 'the inspector address'].filter(Boolean).join(', ')}`)
    }
  } catch (err) {
    const message = `${(err as Error).message}\n--- the dev stack's last output:\n${recent.slice(-80).join('\n')}`
    await cleanup()
    throw new Error(message, { cause: err })
  }

  // The stack prints its database URL with the password masked; the password is in the data directory it created.
  const db = new URL(redactedDbUrl)
  db.password = (await readFile(path.join(dataDir, 'postgres', PG_PASSWORD_FILE), 'utf8')).trim()

  return {
    pid,
    root,
    dataDir,
    ports,
    apiUrl,
    bootstrapToken,
    databaseUrl: db.toString(),
    inspectorUrl: wsUrl,
    startupLines,
    recent: () => [...recent],
    async stop(graceMs = 15_000) {
      const markers = [root, `--port ${ports.WEB_PORT}`]
      const tree = exitInfo ? [] : await descendants(pid)
      if (!exitInfo) process.kill(pid, 'SIGINT')
      const killer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL')
        } catch {
          // gone already
        }
      }, 90_000)
      const result = await exited
      clearTimeout(killer)
      // The stack waits for its children before it exits; allow stragglers a moment all the same.
      const deadline = Date.now() + graceMs
      let leftovers = await survivors(tree, markers)
      while (leftovers.length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        leftovers = await survivors(tree, markers)
      }
      const described = leftovers.map((p) => `${p.pid} ${p.cmdline}`)
      for (const p of leftovers) {
        try {
          process.kill(p.pid, 'SIGKILL')
        } catch {
          // gone already
        }
      }
      await rm(root, { recursive: true, force: true })
      return { ...result, leftovers: described }
    },
  }
}

type Described = Proc & { cmdline: string }

/** Every process, with its command line (for the markers of survivors). */
async function processes(): Promise<Described[]> {
  return Promise.all((await readProcs()).map(async (p) => ({ ...p, cmdline: await procCmdline(p.pid) })))
}

/** `pid` and every process below it. */
async function descendants(pid: number): Promise<Described[]> {
  const all = await processes()
  return [...all.filter((p) => p.pid === pid), ...below(all, pid)]
}

/** Which of `tree` are still alive, and any other process whose command line holds one of `markers`. */
async function survivors(tree: Proc[], markers: string[]): Promise<Described[]> {
  const all = await processes()
  return all.filter((p) => p.pid !== process.pid && (tree.some((t) => t.pid === p.pid && t.start === p.start) || markers.some((m) => p.cmdline.includes(m))))
}
