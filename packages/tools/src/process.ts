// Thin wrappers over child processes: a bounded "run and capture" for version probes, and a
// streaming run for multi-minute Go builds whose output a user should see as it happens.
import { execFile, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface CaptureResult {
  code: number | null
  stdout: string
  stderr: string
  error?: Error
}

/** Run a command with a timeout and capture its output; never throws. */
export function capture(
  file: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<CaptureResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 20_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolve({ code, stdout, stderr, ...(error ? { error } : {}) })
      },
    )
  })
}

/** Run a command, forwarding every output line to `log` with a prefix; resolves with the exit
 * code and the captured stdout (some go commands print JSON there). */
export function runStreaming(
  file: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; prefix: string; log: (line: string) => void; echoStdout?: boolean },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; lastLines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    const lastLines: string[] = []
    const remember = (line: string): void => {
      lastLines.push(line)
      if (lastLines.length > 20) lastLines.shift()
    }
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
    })
    if (opts.echoStdout !== false) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        remember(line)
        opts.log(`${opts.prefix}${line}`)
      })
    }
    createInterface({ input: child.stderr }).on('line', (line) => {
      remember(line)
      opts.log(`${opts.prefix}${line}`)
    })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, lastLines }))
  })
}
