// Starts processes through the launcher, a small Node process of our own (launcher-child.mjs),
// instead of spawning them from this one.
//
// Why: Node spawns by forking the calling process, and a fork costs in proportion to the caller's
// memory. Measured here: 2–8 ms from a 44 MB process, 49–54 ms from a 545 MB one, during which
// this process's event loop stands still. The API and the runner are large processes (and one
// process in `npm run dev`), so every `k6 run` and `k6 inspect` paid tens of milliseconds on the
// way to k6's first request, and held up every other request meanwhile. The launcher stays small,
// so its forks stay cheap; it is started once per process and kept.
//
// Written here rather than taken from a library: what is needed is Node's own spawn, one process
// further away, with output back-pressure and every child killed if this process goes away.
import { fork, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { PassThrough } from 'node:stream'
import { fileURLToPath } from 'node:url'

/** What to start: the file, its arguments and environment, where, and as whom. */
export interface LaunchSpec {
  file: string
  args: readonly string[]
  env: Record<string, string>
  cwd: string
  uid?: number
  gid?: number
}

/**
 * A process started by the launcher, shaped like Node's ChildProcess as far as process.ts uses
 * it: `spawn`, `error` and `exit` events (`exit` after both streams ended), its output streams,
 * its exit state, and kill().
 */
export class LaunchedProcess extends EventEmitter {
  pid: number | undefined
  exitCode: number | null = null
  signalCode: NodeJS.Signals | null = null
  readonly stdout = new PassThrough()
  readonly stderr = new PassThrough()

  constructor(
    private readonly launcher: Launcher,
    readonly id: number,
  ) {
    super()
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.launcher.kill(this, signal)
  }
}

type FromLauncher =
  | { op: 'spawned'; id: number; pid: number }
  | { op: 'error'; id: number; message: string; code?: string }
  | { op: 'out'; id: number; stream: 'stdout' | 'stderr'; data: Uint8Array }
  | { op: 'end'; id: number; stream: 'stdout' | 'stderr' }
  | { op: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }

const CHILD_PATH = fileURLToPath(new URL('./launcher-child.mjs', import.meta.url))

export class Launcher {
  private child: ChildProcess | undefined
  private nextId = 1
  private readonly live = new Map<number, LaunchedProcess>()

  /** Starts the launcher now rather than at the first spawn (its own start takes tens of milliseconds). */
  warm(): void {
    this.ensure()
  }

  spawn(spec: LaunchSpec): LaunchedProcess {
    const child = this.ensure()
    const proc = new LaunchedProcess(this, this.nextId++)
    this.live.set(proc.id, proc)
    child.channel?.ref()
    child.send({ op: 'spawn', id: proc.id, file: spec.file, args: spec.args, env: spec.env, cwd: spec.cwd, ...(spec.uid === undefined ? {} : { uid: spec.uid, gid: spec.gid }) })
    return proc
  }

  kill(proc: LaunchedProcess, signal: NodeJS.Signals): void {
    if (!this.live.has(proc.id) || !this.child?.connected) return
    this.child.send({ op: 'kill', id: proc.id, signal })
  }

  private ensure(): ChildProcess {
    if (this.child?.connected) return this.child
    const child = fork(CHILD_PATH, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child = child
    child.on('message', (message: FromLauncher) => this.receive(message))
    child.once('exit', (code, signal) => this.lost(child, `the process launcher exited (${signal ?? `code ${code}`})`))
    child.once('error', (err) => this.lost(child, `the process launcher failed: ${err.message}`))
    // The launcher must not keep this process alive on its own: only while it runs something.
    child.unref()
    child.channel?.unref()
    return child
  }

  private receive(message: FromLauncher): void {
    const proc = this.live.get(message.id)
    if (!proc) return
    switch (message.op) {
      case 'spawned':
        proc.pid = message.pid
        proc.emit('spawn')
        break
      case 'out':
        ;(message.stream === 'stdout' ? proc.stdout : proc.stderr).write(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength))
        break
      case 'end':
        ;(message.stream === 'stdout' ? proc.stdout : proc.stderr).end()
        break
      case 'error':
        this.settle(proc)
        proc.stdout.end()
        proc.stderr.end()
        proc.emit('error', Object.assign(new Error(message.message), message.code ? { code: message.code } : {}))
        break
      case 'exit':
        this.settle(proc)
        proc.exitCode = message.code
        proc.signalCode = message.signal
        proc.emit('exit', message.code, message.signal)
        break
    }
  }

  private settle(proc: LaunchedProcess): void {
    this.live.delete(proc.id)
    if (this.live.size === 0) this.child?.channel?.unref()
  }

  /** The launcher went away: its processes are reported killed (sandboxed ones die with it; the rest are killed here). */
  private lost(child: ChildProcess, why: string): void {
    if (this.child !== child) return
    this.child = undefined
    for (const proc of [...this.live.values()]) {
      this.settle(proc)
      if (proc.pid !== undefined) {
        try {
          process.kill(proc.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      proc.stdout.end()
      proc.stderr.end()
      if (proc.pid === undefined) proc.emit('error', new Error(why))
      else {
        proc.signalCode = 'SIGKILL'
        proc.emit('exit', null, 'SIGKILL')
      }
    }
  }
}

/** The process's one launcher, started at its first use. */
export const launcher = new Launcher()
