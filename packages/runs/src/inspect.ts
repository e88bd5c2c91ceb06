// The engine check: k6 itself loads the script (`k6 inspect --execution-requirements`) with the
// same binary the runners use, so what k6 would refuse is refused before a run starts, in k6's
// own words. k6 is invoked as a run invokes it (@stampede/sandbox's invocation.ts: same paths,
// HOME, working directory, files, __ENV, secrets as stand-ins) with the validation's limits:
// small memory, CPU seconds and wall time.
import { rm } from 'node:fs/promises'
import { ARCHIVE_ENTRY, bytesFile, limitFromExit, SANDBOX_WORK_DIR, spawnPlan, TEST_DIR, type K6Sandbox } from '@stampede/sandbox'
import { LIMIT_SETTINGS, type K6ProcessLimits } from '@stampede/shared/platform-config'
import type { Finding } from '@stampede/shared/script'
import { scriptFileName } from '@stampede/shared/script'
import type { TestBundle } from './bundle.ts'

export interface ExecutionRequirements {
  maxVUs: number
  totalDurationSeconds: number
}

export type InspectResult = { ok: true; requirements: ExecutionRequirements } | { ok: false; error: Finding }

export interface InspectOptions {
  sandbox: K6Sandbox
  /** Memory, CPU, threads and file size of the validation's k6 process. */
  limits: K6ProcessLimits & { cpuSeconds: number }
  language: 'javascript' | 'typescript'
  /** Wall-clock time k6 may take to load the script. */
  timeoutMs: number
  /** The run's variables (secrets as stand-ins), so init code that reads __ENV loads as it will on the runner. */
  env?: Record<string, string>
  /** The test's files, laid out beside the script as a run lays them out; or its archive, which k6 loads instead. */
  bundle?: TestBundle
}

/** The sandbox could not start k6 at all: a platform fault, not the script's. */
export class SandboxFailure extends Error {
  override name = 'SandboxFailure'
}

/** The largest output `k6 inspect` may print; its JSON is a few hundred bytes. */
const MAX_OUTPUT_CHARS = 1024 * 1024

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
  // The test's files by their stored paths (lib/helper.js), as the test's author knows them.
  let text = message.replaceAll(`file://${SANDBOX_WORK_DIR}/${TEST_DIR}/`, '').replaceAll(`${SANDBOX_WORK_DIR}/${TEST_DIR}/`, '').replace(fileRef, '$1').trim()
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
// Such a failure is retried with K6_VUS=1 (`k6 inspect` takes no --vus flag), which is what `k6 run` would use.
const NO_DEFAULT_VUS = 'the number of VUs must be more than 0'

export async function inspectScript(script: string, opts: InspectOptions): Promise<InspectResult> {
  const first = await inspectOnce(script, opts)
  if (!first.ok && first.error.message.includes(NO_DEFAULT_VUS)) return inspectOnce(script, opts, 1)
  return first
}

/** `k6 inspect`'s own flags: JSON log lines (parsed below) and the requirements as JSON on stdout. */
export const INSPECT_FLAGS: readonly string[] = ['--log-format=json', '--execution-requirements']

async function inspectOnce(script: string, opts: InspectOptions, defaultVus?: number): Promise<InspectResult> {
  const bundle = opts.bundle
  const scriptFile = bundle?.archive ? ARCHIVE_ENTRY : scriptFileName(opts.language)
  const { sandbox } = opts
  const dir = await sandbox.makeDir('inspect-')
  try {
    if (bundle?.archive) await sandbox.prepare(dir, scriptFile, await bundle.read(bundle.archive.sha256))
    else await sandbox.prepare(dir, scriptFile, script, (bundle?.files ?? []).map((f) => bytesFile(f.path, () => bundle!.read(f.sha256))))
    // Nothing is writable: `k6 inspect` writes no file.
    const plan = sandbox.plan({
      dir,
      invocation: { purpose: 'inspect', scriptFile, vars: opts.env ?? {}, flags: INSPECT_FLAGS, ...(defaultVus === undefined ? {} : { defaultVus }) },
      limits: opts.limits,
    })
    let stdout = ''
    const stderr: string[] = []
    let stderrChars = 0
    const proc = spawnPlan(plan, {
      maxRssBytes: opts.limits.memoryBytes,
      onLine: (stream, text) => {
        if (stream === 'stdout') {
          if (stdout.length < MAX_OUTPUT_CHARS) stdout += text + '\n'
        } else if (stderrChars < MAX_OUTPUT_CHARS) {
          stderr.push(text)
          stderrChars += text.length
        }
      },
    })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      proc.signal('SIGKILL')
    }, opts.timeoutMs)
    const exit = await proc.exited.finally(() => clearTimeout(timer))
    // Host paths never reach a message: the directory is named as k6 sees it.
    const scrub = (text: string) => text.replaceAll(dir.path, SANDBOX_WORK_DIR)

    if (exit.sandboxError !== undefined) throw new SandboxFailure(`the k6 sandbox could not start: ${scrub(exit.sandboxError)}`)
    if (timedOut) {
      return { ok: false, error: { code: 'engine-error', message: `k6 did not finish loading the script within ${opts.timeoutMs / 1000} s (K6_VALIDATION_TIMEOUT_SECONDS); look for an endless loop or a long wait in the init code (outside the default function).`, line: 1, column: 1 } }
    }
    const hit = limitFromExit(stderr, exit, opts.limits, LIMIT_SETTINGS.validation)
    if (hit) return { ok: false, error: { code: 'engine-error', message: `k6 could not load the script: ${hit.message}`, line: 1, column: 1 } }
    if (exit.code !== 0) {
      const messages = stderr
        .map((l) => {
          try {
            return JSON.parse(l) as { level?: string; msg?: string }
          } catch {
            return undefined
          }
        })
        .filter((l) => l?.level === 'error' && l.msg)
        .map((l) => l!.msg!)
      const message = messages[0] ?? (stderr.join('\n').trim().slice(0, 2000) || `k6 inspect exited with ${exit.code ?? exit.signal}`)
      return { ok: false, error: engineFinding(scrub(message), scriptFile) }
    }
    let out: { maxVUs?: unknown; totalDuration?: unknown }
    try {
      out = JSON.parse(stdout) as typeof out
    } catch {
      throw new Error(`k6 inspect printed no JSON: ${scrub(stdout.slice(0, 200))}`)
    }
    const totalDurationSeconds = typeof out.totalDuration === 'string' ? parseGoDuration(out.totalDuration) : undefined
    if (typeof out.maxVUs !== 'number' || totalDurationSeconds === undefined) {
      throw new Error(`k6 inspect printed no maxVUs/totalDuration: ${scrub(stdout.slice(0, 200))}`)
    }
    return { ok: true, requirements: { maxVUs: out.maxVUs, totalDurationSeconds } }
  } finally {
    await rm(dir.base, { recursive: true, force: true })
  }
}
