// Temporal's dev server (`temporal server start-dev`) as a child process for `npm run dev` and
// integration tests. Ready means the frontend answers a namespace describe through the same CLI,
// which proves gRPC is up and the namespace is registered, not merely that a port is open.
import path from 'node:path'
import { execFile, spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './ports.ts'

export interface TemporalDevServerOptions {
  binPath: string
  /** Frontend gRPC port; 0 or undefined picks a free one. */
  port?: number
  /** Web UI port; false (default) runs headless, 0 picks a free port. */
  uiPort?: number | false
  /** SQLite file to persist state in; default in-memory. */
  dbFile?: string
  /** Namespace to create and wait for (default `default`, which always exists). */
  namespace?: string
  /** Receives the server's output lines and lifecycle notices. */
  log?: (line: string) => void
}

export interface TemporalDevServer {
  /** host:port of the frontend gRPC service. */
  address: string
  namespace: string
  uiUrl?: string
  stop(): Promise<void>
}

const HOST = '127.0.0.1'
const READY_DEADLINE_MS = 60_000
const STOP_GRACE_MS = 10_000
const KEEP_LINES = 60

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const namespace = opts.namespace ?? 'default'
  const port = opts.port || (await freePort())
  const uiPort = opts.uiPort === false || opts.uiPort === undefined ? undefined : opts.uiPort || (await freePort())
  const address = `${HOST}:${port}`

  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(port)]
  args.push(...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]))
  if (opts.dbFile) {
    await mkdir(path.dirname(path.resolve(opts.dbFile)), { recursive: true })
    args.push('--db-filename', opts.dbFile)
  }
  args.push('--log-level', 'warn', '--namespace', 'default')
  if (namespace !== 'default') args.push('--namespace', namespace)

  const child = spawn(opts.binPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const recent: string[] = []
  const onLine = (line: string): void => {
    recent.push(line)
    if (recent.length > KEEP_LINES) recent.shift()
    opts.log?.(line)
  }
  createInterface({ input: child.stdout }).on('line', onLine)
  createInterface({ input: child.stderr }).on('line', onLine)

  let stopping = false
  let ready = false
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined
  let spawnError: Error | undefined
  const exited = new Promise<void>((resolve) => {
    child.on('error', (err) => {
      spawnError = err
      resolve()
    })
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal }
      // Before readiness the failure is reported by the rejected start instead.
      if (ready && !stopping) {
        const notice = `temporal dev server (pid ${child.pid}, ${address}) exited unexpectedly: ${describeExit(code, signal)}`
        if (opts.log) opts.log(notice)
        else console.error(notice)
      }
      resolve()
    })
  })
  // If this Node process ends without calling stop(), do not leave the server behind.
  const killOnExit = (): void => void child.kill('SIGKILL')
  process.once('exit', killOnExit)

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit)
    if (exitInfo || spawnError) return
    stopping = true
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
    await exited
    clearTimeout(timer)
  }

  const deadline = Date.now() + READY_DEADLINE_MS
  for (;;) {
    if (spawnError) {
      process.off('exit', killOnExit)
      throw new Error(`could not start ${opts.binPath}: ${spawnError.message}`)
    }
    if (exitInfo) {
      process.off('exit', killOnExit)
      throw new Error(`temporal dev server exited before it was ready (${describeExit(exitInfo.code, exitInfo.signal)}):\n${recent.join('\n')}`)
    }
    if (await namespaceReady(opts.binPath, address, namespace)) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`temporal dev server at ${address} was not ready within ${READY_DEADLINE_MS / 1000} s:\n${recent.join('\n')}`)
    }
    await sleep(200)
  }
  ready = true

  return {
    address,
    namespace,
    ...(uiPort === undefined ? {} : { uiUrl: `http://${HOST}:${uiPort}` }),
    stop,
  }
}

function namespaceReady(binPath: string, address: string, namespace: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      binPath,
      ['operator', 'namespace', 'describe', '--address', address, '--namespace', namespace],
      { timeout: 5_000 },
      (error) => resolve(!error),
    )
  })
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`
}
