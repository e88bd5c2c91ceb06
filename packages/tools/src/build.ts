// Builds a pinned tool from source with Go into a staging directory, then moves it into the
// cache, so a reader never sees a half-written binary.
// k6: `go install go.k6.io/k6/v2@v2.2.0` needs the proxy's `@v/list` for its deprecation check,
// and some proxies answer 404 there; `go mod download` + `go build` in the module directory does
// not need it, so that is the fallback. temporal: plain `go install`, with the version stamped
// through ldflags the way its release build does (otherwise it reports `0.0.0-DEV`).
import path from 'node:path'
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises'
import { PINNED } from './versions.ts'
import type { ToolName } from './versions.ts'
import { runStreaming } from './process.ts'

export interface BuildOptions {
  go: string
  env: NodeJS.ProcessEnv
  cacheDir: string
  log: (line: string) => void
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
      opts.log(`${prefix}go install ${pin.module}@v${pin.version} (takes a few minutes the first time)`)
      const first = await run(['install', '-trimpath', `${pin.module}@v${pin.version}`])
      if (first.code !== 0) {
        opts.log(`${prefix}go install failed; building from the downloaded module source instead`)
        const dl = await runStreaming(opts.go, ['mod', 'download', '-json', `${pin.module}@v${pin.version}`], { env: goEnv, prefix, log: opts.log, echoStdout: false })
        const dir = moduleDir(dl.stdout)
        if (dl.code !== 0 || !dir) throw goFailure('go mod download', dl, moduleError(dl.stdout))
        const goflags = [goEnv.GOFLAGS, '-mod=mod'].filter(Boolean).join(' ')
        const res = await runStreaming(opts.go, ['build', '-trimpath', '-o', staged, '.'], { env: { ...goEnv, GOFLAGS: goflags }, cwd: dir, prefix, log: opts.log })
        if (res.code !== 0) throw goFailure('go build', res)
      }
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

function moduleDir(stdout: string): string | undefined {
  try {
    const info = JSON.parse(stdout) as { Dir?: unknown }
    return typeof info.Dir === 'string' && info.Dir ? info.Dir : undefined
  } catch {
    return undefined
  }
}

function moduleError(stdout: string): string | undefined {
  try {
    const info = JSON.parse(stdout) as { Error?: unknown }
    return typeof info.Error === 'string' ? info.Error : undefined
  } catch {
    return undefined
  }
}

function goFailure(step: string, res: { code: number | null; signal: NodeJS.Signals | null; lastLines: string[] }, detail?: string): Error {
  const how = res.signal ? `was killed by ${res.signal}` : `exited with code ${res.code}`
  const tail = detail ?? res.lastLines.slice(-5).join('\n  ')
  return new Error(`${step} ${how}${tail ? `:\n  ${tail}` : ''}`)
}
