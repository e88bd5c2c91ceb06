// Builds a pinned tool from source with Go into a staging directory, then moves it into the
// cache, so a reader never sees a half-written binary.
// k6: Stampede's k6 is k6 plus Stampede's output extension, built with `go build` in the Go
// module packages/k6-output (its go.mod pins go.k6.io/k6/v2 v2.2.0 and its go.sum is committed,
// so the build needs only the module proxy), with the extension's source hash stamped in.
// temporal: plain `go install`, with the version stamped through ldflags the way its release
// build does (otherwise it reports `0.0.0-DEV`).
import path from 'node:path'
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises'
import { PINNED } from './versions.ts'
import type { ToolName } from './versions.ts'
import { runStreaming } from './process.ts'
import { K6_MAIN_PACKAGE, stampLdflags } from './k6source.ts'

export interface BuildOptions {
  go: string
  env: NodeJS.ProcessEnv
  cacheDir: string
  log: (line: string) => void
  /** k6 only: the extension module to build and its source hash (see k6source.ts). */
  k6Source?: { dir: string; hash: string }
}

/** Build `name` at its pinned version; returns the staged binary's path (caller verifies and
 * installs it with `installStaged`). Throws with go's last output lines on failure. */
export async function buildWithGo(name: ToolName, opts: BuildOptions): Promise<{ staged: string; cleanup: () => Promise<void> }> {
  const workDir = path.dirname(opts.cacheDir)
  await mkdir(workDir, { recursive: true })
  const stagingDir = await mkdtemp(path.join(workDir, `build-${name}-`))
  const cleanup = (): Promise<void> => rm(stagingDir, { recursive: true, force: true })
  try {
    const staged = path.join(stagingDir, exe(name))
    const goEnv: NodeJS.ProcessEnv = { ...opts.env, GOBIN: stagingDir, CGO_ENABLED: '0' }
    const prefix = `[${name} build] `
    const run = (args: string[], cwd?: string) =>
      runStreaming(opts.go, args, { env: goEnv, prefix, log: opts.log, ...(cwd ? { cwd } : {}) })
    const pin = PINNED[name]
    if (name === 'temporal') {
      opts.log(`${prefix}go install ${pin.module}@v${pin.version} (takes a few minutes the first time)`)
      const res = await run(['install', '-trimpath', '-ldflags', `-X github.com/temporalio/cli/temporalcli.Version=${pin.version}`, `${pin.module}@v${pin.version}`])
      if (res.code !== 0) throw goFailure('go install', res)
    } else {
      const src = opts.k6Source
      if (!src) throw new Error('building k6 needs the Stampede k6 output module (k6Source)')
      opts.log(`${prefix}go build: k6 v${pin.version} with the stampede output (source ${src.hash}) in ${src.dir} (takes a few minutes the first time)`)
      const started = Date.now()
      const res = await run(['build', '-trimpath', '-ldflags', stampLdflags(src.hash), '-o', staged, K6_MAIN_PACKAGE], src.dir)
      if (res.code !== 0) throw goFailure('go build', res)
      opts.log(`${prefix}built in ${Math.round((Date.now() - started) / 1000)} s`)
    }
    await stat(staged).catch(() => {
      throw new Error(`go reported success but ${staged} does not exist`)
    })
    return { staged, cleanup }
  } catch (err) {
    await cleanup()
    throw err
  }
}

/** Move a verified binary into the cache (atomic rename within one filesystem). */
export async function installStaged(staged: string, cacheDir: string, name: ToolName): Promise<string> {
  await mkdir(cacheDir, { recursive: true })
  const target = path.join(cacheDir, exe(name))
  await rename(staged, target)
  return target
}

export function exe(name: string): string {
  return process.platform === 'win32' ? `${name}.exe` : name
}

function goFailure(step: string, res: { code: number | null; signal: NodeJS.Signals | null; lastLines: string[] }, detail?: string): Error {
  const how = res.signal ? `was killed by ${res.signal}` : `exited with code ${res.code}`
  const tail = detail ?? res.lastLines.slice(-5).join('\n  ')
  return new Error(`${step} ${how}${tail ? `:\n  ${tail}` : ''}`)
}
