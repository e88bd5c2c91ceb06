// The one narrow boundary around the k6 binary: spawn it, hand every output line to a
// callback as it arrives, wait for the exit, and signal it. Unit tests fake this function;
// integration tests use the real binary.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { ConsoleStream } from '@stampede/shared'

export interface K6ProcessOptions {
  binPath: string
  args: string[]
  env: Record<string, string>
  cwd: string
  onLine: (stream: ConsoleStream, text: string) => void
}

export interface K6Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface K6Process {
  readonly pid: number | undefined
  /** Resolves once k6 exited and both output streams are drained. */
  readonly exited: Promise<K6Exit>
  signal(sig: NodeJS.Signals): void
}

export type SpawnK6 = (opts: K6ProcessOptions) => K6Process

export const spawnK6: SpawnK6 = ({ binPath, args, env, cwd, onLine }) => {
  const child = spawn(binPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const drained = (stream: ConsoleStream, input: NodeJS.ReadableStream) =>
    new Promise<void>((resolve) => {
      const rl = createInterface({ input, crlfDelay: Infinity })
      rl.on('line', (text) => onLine(stream, text))
      rl.on('close', resolve)
    })
  const streams = Promise.all([drained('stdout', child.stdout), drained('stderr', child.stderr)])
  const exited = new Promise<K6Exit>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      void streams.then(() => resolve({ code, signal }))
    })
  })
  return {
    pid: child.pid,
    exited,
    signal(sig) {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig)
    },
  }
}
