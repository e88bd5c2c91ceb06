// The engine check: k6 itself loads the script (`k6 inspect --execution-requirements`) with the
// same binary the runners use, so what k6 would refuse is refused before a run starts, in k6's
// own words. k6 runs in a private temp dir with a minimal environment (no platform settings).
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Finding } from '@stampede/shared/script'
import { scriptFileName } from '@stampede/shared/script'

export interface ExecutionRequirements {
  maxVUs: number
  totalDurationSeconds: number
}

export type InspectResult = { ok: true; requirements: ExecutionRequirements } | { ok: false; error: Finding }

export interface InspectOptions {
  k6BinPath: string
  language: 'javascript' | 'typescript'
  timeoutMs?: number
  /** The run's variables, so init code that reads __ENV loads as it will on the runner. */
  env?: Record<string, string>
}

const UNITS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, 'µs': 1e-6, ns: 1e-9 }

/** Parses a Go duration as k6 prints it ("1h2m3.5s", "40s", "500ms") into seconds. */
export function parseGoDuration(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2]!] ?? 0), 0)
}

/** k6's error text without the temp dir, and the script position it names, if any. */
export function engineFinding(message: string, scriptFile: string): Finding {
  const fileRef = /file:\/\/\/\S*?\/(script\.(?:js|ts))/g
  let text = message.replace(fileRef, '$1').trim()
  let line = 1
  let column = 1
  // Stack frames: "at script.js:4:3(15)"; parse errors: "script.js: Line 4:0 Unexpected …" (0-based column).
  const frame = new RegExp(`${scriptFile.replace('.', '\\.')}:(\\d+):(\\d+)`).exec(text)
  const parseError = /Line (\d+):(\d+)/.exec(text)
  if (frame) {
    line = Number(frame[1])
    column = Number(frame[2])
  } else if (parseError) {
    line = Number(parseError[1])
    column = Number(parseError[2]) + 1
  }
  text = text.replace(/\n\s*/g, ' ').replace(/^could not initialize '[^']+': /, '')
  return { code: 'engine-error', message: `k6 could not load the script: ${text}`, line, column }
}

// k6 v2.2.0's `inspect` does not apply the default of 1 VU that `k6 run` applies, so a script
// with `iterations` and no `vus` fails there only ("the number of VUs must be more than 0").
// Such a failure is retried with K6_VUS=1, which is what `k6 run` would use.
const NO_DEFAULT_VUS = 'the number of VUs must be more than 0'

export async function inspectScript(script: string, opts: InspectOptions): Promise<InspectResult> {
  const first = await inspectOnce(script, opts, {})
  if (!first.ok && first.error.message.includes(NO_DEFAULT_VUS)) return inspectOnce(script, opts, { K6_VUS: '1' })
  return first
}

async function inspectOnce(script: string, opts: InspectOptions, extraEnv: Record<string, string>): Promise<InspectResult> {
  const scriptFile = scriptFileName(opts.language)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-inspect-'))
  try {
    await chmod(dir, 0o700)
    await writeFile(path.join(dir, scriptFile), script, { mode: 0o600 })
    // `k6 inspect`, unlike `k6 run`, hides the process environment from __ENV unless asked
    // (--include-system-env-vars): the script must see the same __ENV as on the runner.
    const env = {
      ...opts.env,
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: dir,
      TMPDIR: dir,
      K6_NO_USAGE_REPORT: 'true',
      // Unknown modules must fail here, not make k6 try to build a custom binary online.
      K6_AUTO_EXTENSION_RESOLUTION: 'false',
      ...extraEnv,
    }
    const child = spawn(opts.k6BinPath, ['inspect', '--log-format=json', '--no-color', '--execution-requirements', '--include-system-env-vars', scriptFile], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timeoutMs = opts.timeoutMs ?? 10_000
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (c) => resolve(c))
    }).finally(() => clearTimeout(timer))

    if (timedOut) {
      return { ok: false, error: { code: 'engine-error', message: `k6 did not finish loading the script within ${timeoutMs / 1000} s; look for an endless loop or a long wait in the init code (outside the default function).`, line: 1, column: 1 } }
    }
    if (code !== 0) {
      const messages = stderr
        .split('\n')
        .map((l) => {
          try {
            return JSON.parse(l) as { level?: string; msg?: string }
          } catch {
            return undefined
          }
        })
        .filter((l) => l?.level === 'error' && l.msg)
        .map((l) => l!.msg!)
      const message = messages[0] ?? (stderr.trim() || `k6 inspect exited with code ${code}`)
      return { ok: false, error: engineFinding(message, scriptFile) }
    }
    const out = JSON.parse(stdout) as { maxVUs?: unknown; totalDuration?: unknown }
    const totalDurationSeconds = typeof out.totalDuration === 'string' ? parseGoDuration(out.totalDuration) : undefined
    if (typeof out.maxVUs !== 'number' || totalDurationSeconds === undefined) {
      throw new Error(`k6 inspect printed no maxVUs/totalDuration: ${stdout.slice(0, 200)}`)
    }
    return { ok: true, requirements: { maxVUs: out.maxVUs, totalDurationSeconds } }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
