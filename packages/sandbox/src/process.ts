// Starts a SpawnPlan and hands every output line to a callback. One implementation for the
// runner's `k6 run` and the API's `k6 inspect`, so both get the same protections:
// - lines are cut at `maxLineBytes`: a script that logs one gigantic line must not make this
//   process buffer it (readline would keep the whole line in memory);
// - signals reach k6 itself: in the sandbox k6 is the child of bwrap, which does not forward
//   signals, so SIGINT (k6's graceful stop) goes to k6's own pid;
// - exits are reported as k6's: bwrap exits 128+N when k6 died of signal N, and a sandbox that
//   could not be set up is told apart from k6's own failures (bwrap's "bwrap: …" line);
// - the fork happens in the launcher (launcher.ts), whose cost does not grow with this process.
import { closeSync, openSync, readSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { constants } from 'node:os'
import { launcher } from './launcher.ts'
import type { SpawnPlan } from './sandbox.ts'

export type OutputStream = 'stdout' | 'stderr'

export interface ProcessExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** The sandbox itself failed before k6 started (bwrap's message). */
  sandboxError?: string
  /** k6 was killed because its resident memory passed `maxRssBytes` (bytes it had then). */
  rssLimitHit?: number
}

export interface SandboxedProcess {
  /** The spawned process (bwrap in the sandbox, k6 otherwise). */
  readonly pid: number | undefined
  /** Resolves once k6 exited and both output streams are drained; rejects if nothing could be spawned. */
  readonly exited: Promise<ProcessExit>
  signal(sig: NodeJS.Signals): void
}

export interface SpawnOptions {
  onLine: (stream: OutputStream, text: string) => void
  /** Longest line passed on; the rest of a longer line is dropped and the line marked. Default 64 KiB. */
  maxLineBytes?: number
  /**
   * Resident memory k6 may use: checked every RSS_CHECK_MS, k6 is killed past it. The address-space
   * limit (see limits.ts) stops allocations faster than the check, but sits above this one.
   */
  maxRssBytes?: number
}

const RSS_CHECK_MS = 100

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024

export function spawnPlan(plan: SpawnPlan, opts: SpawnOptions): SandboxedProcess {
  const child = launcher.spawn({ file: plan.file, args: plan.args, cwd: plan.cwd, env: plan.env, ...(plan.uid === undefined ? {} : { uid: plan.uid }), ...(plan.gid === undefined ? {} : { gid: plan.gid }) })
  const max = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  let sandboxError: string | undefined
  const onLine = (stream: OutputStream, text: string) => {
    if (plan.sandboxed && stream === 'stderr' && text.startsWith('bwrap: ') && sandboxError === undefined) sandboxError = text.slice(7)
    opts.onLine(stream, text)
  }
  const streams = Promise.all([drainLines(child.stdout, max, (t) => onLine('stdout', t)), drainLines(child.stderr, max, (t) => onLine('stderr', t))])
  const exited = new Promise<ProcessExit>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      void streams.then(() => {
        const exit = translateExit(code, signal, plan.sandboxed, sandboxError)
        resolve(rssLimitHit === undefined ? exit : { ...exit, rssLimitHit })
      })
    })
  })
  const alive = () => child.exitCode === null && child.signalCode === null
  // k6's own pid: bwrap's child in the sandbox, read from /proc once it exists, then kept.
  let k6: number | undefined
  const k6Process = async () => {
    if (child.pid === undefined) return undefined
    return (k6 ??= plan.sandboxed ? await k6Pid(child.pid) : child.pid)
  }
  let rssLimitHit: number | undefined
  let resident: ResidentBytes | undefined
  const rssWatch =
    opts.maxRssBytes === undefined
      ? undefined
      : setInterval(() => {
          void k6Process().then((pid) => {
            const rss = pid === undefined ? undefined : (resident ??= new ResidentBytes(pid)).read()
            if (rss === undefined || rss <= opts.maxRssBytes! || rssLimitHit !== undefined || !alive()) return
            rssLimitHit = rss
            tryKill(pid!, 'SIGKILL')
            child.kill('SIGKILL')
          })
        }, RSS_CHECK_MS)
  void exited
    .finally(() => {
      clearInterval(rssWatch)
      return resident?.close()
    })
    .catch(() => {})
  return {
    get pid() {
      return child.pid
    },
    exited,
    signal(sig) {
      if (!alive()) return
      if (!plan.sandboxed || sig === 'SIGKILL') {
        // SIGKILL of bwrap takes k6 with it (--die-with-parent); k6 is killed directly too.
        if (plan.sandboxed) void k6Process().then((pid) => pid && tryKill(pid, sig))
        child.kill(sig)
        return
      }
      void k6Process().then((pid) => {
        // Before k6 exists there is nothing to stop gracefully: end the sandbox.
        if (pid === undefined) child.kill('SIGKILL')
        else tryKill(pid, sig)
      })
    },
  }
}

/** k6's host pid: bwrap's only child (k6 is pid 1 of its PID namespace, --as-pid-1). */
async function k6Pid(bwrapPid: number): Promise<number | undefined> {
  try {
    const children = await readFile(`/proc/${bwrapPid}/task/${bwrapPid}/children`, 'utf8')
    const first = children.trim().split(/\s+/)[0]
    return first ? Number(first) : undefined
  } catch {
    return undefined
  }
}

/**
 * A process's resident memory (VmRSS) read from /proc/<pid>/status through one open descriptor:
 * the kernel writes the file anew at every read from its start, and a kept descriptor costs a
 * sixth of a readFile (open, fstat, read, close) at the watch's ten reads a second. Read
 * synchronously: a procfs read never waits on a disk (0.04 ms here), and the asynchronous read
 * woke a libuv pool thread as well each time, beside a CPU-bound k6.
 */
class ResidentBytes {
  private fd: number | undefined
  private readonly buffer = Buffer.alloc(4096)

  constructor(private readonly pid: number) {}

  /** Bytes, or undefined once the process is gone. */
  read(): number | undefined {
    try {
      this.fd ??= openSync(`/proc/${this.pid}/status`, 'r')
      const bytesRead = readSync(this.fd, this.buffer, 0, this.buffer.length, 0)
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(this.buffer.toString('latin1', 0, bytesRead))?.[1]
      return kb === undefined ? undefined : Number(kb) * 1024
    } catch {
      return undefined
    }
  }

  close(): void {
    if (this.fd === undefined) return
    try {
      closeSync(this.fd)
    } catch {
      // already closed
    }
    this.fd = undefined
  }
}

function tryKill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]))

function translateExit(code: number | null, signal: NodeJS.Signals | null, sandboxed: boolean, sandboxError: string | undefined): ProcessExit {
  if (sandboxed && sandboxError !== undefined && code === 1) return { code, signal, sandboxError }
  if (sandboxed && code !== null && code > 128 && SIGNAL_NAMES.has(code - 128)) return { code: null, signal: SIGNAL_NAMES.get(code - 128)! }
  return { code, signal }
}

/**
 * Splits a byte stream into lines without ever holding more than `max` bytes of one line.
 * Written here because readline (and split2) buffer a whole line however long it is.
 */
function drainLines(input: NodeJS.ReadableStream, max: number, emit: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let parts: Buffer[] = []
    let size = 0
    let cut = false
    const flush = () => {
      const text = Buffer.concat(parts, size).toString('utf8').replace(/\r$/, '')
      emit(cut ? `${text}… [line cut at ${Math.round(max / 1024)} KB]` : text)
      parts = []
      size = 0
      cut = false
    }
    input.on('data', (chunk: Buffer) => {
      let start = 0
      for (;;) {
        const nl = chunk.indexOf(10, start)
        const end = nl === -1 ? chunk.length : nl
        if (!cut && end > start) {
          const room = max - size
          const piece = chunk.subarray(start, Math.min(end, start + room))
          if (piece.length > 0) {
            parts.push(piece)
            size += piece.length
          }
          if (end - start > room) cut = true
        }
        if (nl === -1) break
        flush()
        start = nl + 1
      }
    })
    input.on('end', () => {
      if (size > 0 || cut) flush()
      resolve()
    })
    input.on('error', () => resolve())
  })
}
