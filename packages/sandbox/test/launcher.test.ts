// The launcher (launcher.ts) with real processes: output arrives whole and in order, spawn
// failures and exits are reported as Node reports them, signals reach the process, and nothing it
// started outlives the process that asked for it.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Launcher, spawnPlan, type LaunchedProcess } from '../src/index.ts'

const ENV = { PATH: '/usr/bin:/bin' }

async function collect(proc: LaunchedProcess): Promise<{ stdout: Buffer; stderr: Buffer; code: number | null; signal: NodeJS.Signals | null }> {
  const out: Buffer[] = []
  const err: Buffer[] = []
  proc.stdout.on('data', (b: Buffer) => out.push(b))
  proc.stderr.on('data', (b: Buffer) => err.push(b))
  const [code, signal] = (await once(proc, 'exit')) as [number | null, NodeJS.Signals | null]
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, signal }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('the process launcher', () => {
  it('delivers a large output whole, in order, on the right stream, with the exit code', async () => {
    const launcher = new Launcher()
    // ~22 MB on stdout, much more than the IPC channel holds at once: back-pressure must hold it.
    const proc = launcher.spawn({ file: '/bin/sh', args: ['-c', 'seq 1 3000000; echo done >&2; exit 3'], env: ENV, cwd: '/' })
    const r = await collect(proc)
    expect(r.code).toBe(3)
    expect(r.signal).toBeNull()
    expect(r.stderr.toString()).toBe('done\n')
    const expected = Array.from({ length: 3_000_000 }, (_, i) => `${i + 1}\n`).join('')
    expect(r.stdout.length).toBe(Buffer.byteLength(expected))
    expect(r.stdout.toString() === expected).toBe(true)
  })

  it('reports a file that cannot be started as an error, like spawn', async () => {
    const proc = new Launcher().spawn({ file: '/nonexistent/k6', args: [], env: ENV, cwd: '/' })
    const [err] = (await once(proc, 'error')) as [NodeJS.ErrnoException]
    expect(err.code).toBe('ENOENT')
  })

  it('passes signals on and reports the signal that ended the process', async () => {
    const proc = new Launcher().spawn({ file: '/bin/sleep', args: ['60'], env: ENV, cwd: '/' })
    await once(proc, 'spawn')
    expect(proc.pid).toBeGreaterThan(0)
    proc.kill('SIGINT')
    const r = await collect(proc)
    expect(r).toMatchObject({ code: null, signal: 'SIGINT' })
    expect(proc.signalCode).toBe('SIGINT')
  })

  it('spawnPlan runs through it: lines, exit code and the pid once started', async () => {
    const lines: string[] = []
    const proc = spawnPlan({ file: '/bin/sh', args: ['-c', 'echo one; echo two >&2; exit 5'], env: ENV, cwd: '/', sandboxed: false }, { onLine: (stream, text) => lines.push(`${stream}:${text}`) })
    const exit = await proc.exited
    expect(exit).toEqual({ code: 5, signal: null })
    expect(lines.sort()).toEqual(['stderr:two', 'stdout:one'])
    expect(proc.pid).toBeGreaterThan(0)
  })

  it('kills what it started when the process that asked for it dies', async () => {
    // A process that starts `sleep` through its own launcher, prints the pids, then is SIGKILLed.
    const launcherUrl = new URL('../src/launcher.ts', import.meta.url).href
    const code = `
      import { Launcher } from ${JSON.stringify(launcherUrl)}
      const l = new Launcher()
      const p = l.spawn({ file: '/bin/sleep', args: ['600'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' })
      p.once('spawn', () => console.log(JSON.stringify({ sleep: p.pid })))
      setInterval(() => {}, 1000)
    `
    const tsx = fileURLToPath(new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url))
    const parent = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
    const [line] = (await once(parent.stdout, 'data')) as [Buffer]
    const { sleep } = JSON.parse(line.toString()) as { sleep: number }
    expect(alive(sleep)).toBe(true)
    parent.kill('SIGKILL')
    await until(() => !alive(sleep), `sleep (pid ${sleep}) to be killed with its parent`)
  })
})
