// Finds a pinned tool, in the documented order: explicit env path, PATH, the project cache,
// a Go build into the cache, the official release download. Binaries found on PATH or in the
// cache must be the pinned version; an explicit env path is trusted (its version is reported).
// k6 must also be Stampede's build of it (k6 plus the stampede output extension) from the
// checkout's extension source: the source hash stamped into the binary must match (k6source.ts).
import path from 'node:path'
import { constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { ENV_VAR, PINNED, VERSION_ARGS, isPlaceholderVersion, parseVersion, sameVersion } from './versions.ts'
import type { ToolName } from './versions.ts'
import { copyFile, mkdir } from 'node:fs/promises'
import { cacheDirFrom, sharedCacheDirFrom } from './paths.ts'
import { capture } from './process.ts'
import { readGoBuildInfo } from './buildinfo.ts'
import { withLock } from './lock.ts'
import { buildWithGo, exe, installStaged } from './build.ts'
import { downloadRelease } from './download.ts'
import { K6_SOURCE_DIR, k6SourceHash, readSourceStamp } from './k6source.ts'
import { processEnv } from './env.ts'

export interface ResolvedTool {
  name: ToolName
  path: string
  version: string
  source: 'env' | 'path' | 'cache' | 'built' | 'downloaded'
}

export interface ResolveOptions {
  /** Environment to read `K6_BIN_PATH`/`TEMPORAL_BIN_PATH`/`PATH` from, and to run go with. */
  env?: NodeJS.ProcessEnv
  /** Progress and diagnostics (default: stderr). Go's output arrives here line by line. */
  log?: (line: string) => void
  /** Allow provisioning into the cache (Go build, then download) when nothing usable is found.
   * Default true. */
  allowBuild?: boolean
  /** k6 only: the Go module with Stampede's output extension (default packages/k6-output). */
  k6SourceDir?: string
}

export async function resolveTool(name: ToolName, opts: ResolveOptions = {}): Promise<ResolvedTool> {
  const env = opts.env ?? processEnv()
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`))
  const pin = PINNED[name]
  const envVar = ENV_VAR[name]
  const tried: string[] = []
  const k6SourceDir = opts.k6SourceDir ?? K6_SOURCE_DIR
  const want: Want = { version: pin.version, ...(name === 'k6' ? { sourceHash: await k6SourceHash(k6SourceDir) } : {}) }
  const variant = want.sourceHash ? `${pin.version} (stampede output ${want.sourceHash})` : pin.version

  const explicit = env[envVar]
  if (explicit) {
    const file = path.resolve(explicit)
    if (!(await isExecutable(file))) {
      throw new Error(`${envVar}=${explicit} is not an executable file; fix or unset ${envVar}`)
    }
    const id = await identify(name, file, env)
    const version = id.version ?? 'unknown'
    if (!id.version || !sameVersion(id.version, pin.version)) {
      log(`warning: ${envVar} points to ${name} ${version} (${id.detail}); the pinned version is ${pin.version}. Using it because it was set explicitly.`)
    } else if (want.sourceHash) {
      const stamp = await checkStamp(file, want)
      if (!stamp.ok) log(`warning: ${envVar} points to ${file}, which ${stamp.reason}. Using it because it was set explicitly.`)
    }
    return { name, path: file, version, source: 'env' }
  }
  tried.push(`${envVar} is not set`)

  const onPath = await findOnPath(exe(name), env)
  for (const candidate of onPath) {
    const check = await checkPinned(name, candidate, env, want)
    if (check.ok) return { name, path: candidate, version: pin.version, source: 'path' }
    log(`skipping ${candidate} on PATH: ${check.reason}`)
    tried.push(`${candidate} on PATH: ${check.reason}`)
  }
  if (onPath.length === 0) tried.push(`no ${name} on PATH`)

  const cacheDir = cacheDirFrom(env)
  // The machine-wide cache (outside the checkout): builds other checkouts made earlier.
  const sharedDir = sharedCacheDirFrom(env)
  const sharedKey = want.sourceHash ? `${name}-${pin.version}-${want.sourceHash}` : `${name}-${pin.version}`
  const shared = sharedDir ? path.join(sharedDir, sharedKey, exe(name)) : undefined
  const share = async (installed: string) => {
    if (!shared) return
    try {
      await mkdir(path.dirname(shared), { recursive: true })
      await copyFile(installed, `${shared}.tmp`)
      await installStaged(`${shared}.tmp`, path.dirname(shared), name)
    } catch (err) {
      log(`could not keep a copy in the machine cache ${shared}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  const cached = path.join(cacheDir, exe(name))
  const fromCache = async (): Promise<ResolvedTool | undefined> => {
    if (!(await isExecutable(cached))) return undefined
    const check = await checkPinned(name, cached, env, want)
    if (check.ok) return { name, path: cached, version: pin.version, source: 'cache' }
    // A plain k6 of the pinned version (the official release download) is kept when it cannot
    // be replaced: without Go there is no way to build Stampede's k6 here.
    if (check.versionOk && !(await findOnPath(exe('go'), env))[0]) {
      log(`warning: using ${cached}, which ${check.reason}; without Go on PATH Stampede's k6 cannot be built here, so the stampede output is not available.`)
      return { name, path: cached, version: pin.version, source: 'cache' }
    }
    log(`ignoring ${cached}: ${check.reason}`)
    tried.push(`${cached}: ${check.reason}`)
    return undefined
  }
  const hit = await fromCache()
  if (hit) {
    if (shared && !(await isExecutable(shared))) await share(hit.path)
    return hit
  }
  if (!tried.some((t) => t.startsWith(cached))) tried.push(`nothing in the tool cache ${cacheDir}`)

  // Not in this checkout: a build another checkout on this machine made earlier.
  if (shared && (await isExecutable(shared))) {
    const check = await checkPinned(name, shared, env, want)
    if (check.ok) {
      await mkdir(cacheDir, { recursive: true })
      await copyFile(shared, `${cached}.tmp`)
      const installed = await installStaged(`${cached}.tmp`, cacheDir, name)
      log(`copied ${name} ${variant} from the machine cache ${shared}`)
      return { name, path: installed, version: pin.version, source: 'cache' }
    }
    tried.push(`${shared}: ${check.reason}`)
  }

  if (opts.allowBuild === false) throw notFound(name, tried, false)

  // Build or download under a lock; whoever waited re-checks the cache first.
  const lockFile = path.join(path.dirname(cacheDir), `${name}.lock`)
  return withLock(lockFile, { log }, async () => {
    const afterWait = await fromCache()
    if (afterWait) return afterWait

    const go = (await findOnPath(exe('go'), env))[0]
    if (go) {
      try {
        const k6Source = want.sourceHash ? { k6Source: { dir: k6SourceDir, hash: want.sourceHash } } : {}
        const { staged, cleanup } = await buildWithGo(name, { go, env, cacheDir, log, ...k6Source })
        try {
          const installed = await verifyAndInstall(name, staged, cacheDir, env, want)
          log(`built ${name} ${variant} into ${installed}`)
          await share(installed)
          return { name, path: installed, version: pin.version, source: 'built' as const }
        } finally {
          await cleanup()
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        log(`building ${name} with Go failed: ${message}`)
        tried.push(`building with ${go} failed: ${message}`)
      }
    } else {
      tried.push('go is not on PATH, so it could not be built')
    }

    try {
      const { staged, cleanup } = await downloadRelease(name, { cacheDir, env, log })
      try {
        // The official release is plain k6: right version, no stampede output (only reached
        // when Go is missing or the build failed).
        const installed = await verifyAndInstall(name, staged, cacheDir, env, { version: pin.version })
        log(`downloaded ${name} ${pin.version} into ${installed}${want.sourceHash ? "; it is the official k6 without Stampede's output extension (install Go to build Stampede's k6)" : ''}`)
        await share(installed)
        return { name, path: installed, version: pin.version, source: 'downloaded' as const }
      } finally {
        await cleanup()
      }
    } catch (err) {
      tried.push(err instanceof Error ? err.message : String(err))
    }
    throw notFound(name, tried, true)
  })
}

async function verifyAndInstall(name: ToolName, staged: string, cacheDir: string, env: NodeJS.ProcessEnv, want: Want): Promise<string> {
  const check = await checkPinned(name, staged, env, want)
  if (!check.ok) throw new Error(`the new binary is not the expected ${name} ${PINNED[name].version}: ${check.reason}`)
  return installStaged(staged, cacheDir, name)
}

function notFound(name: ToolName, tried: string[], provisioned: boolean): Error {
  const pin = PINNED[name]
  const hint = provisioned
    ? `Install ${name} v${pin.version} yourself and set ${ENV_VAR[name]}, or install Go and run \`npm run tools\`.`
    : `Run \`npm run tools\` to build it, or set ${ENV_VAR[name]}.`
  return new Error(`${name} v${pin.version} is not available.\n  - ${tried.join('\n  - ')}\n${hint}`)
}

/** What a usable binary must be: the pinned version and, for k6, Stampede's build of the
 * checkout's extension source. */
interface Want {
  version: string
  sourceHash?: string
}

type Check = { ok: true } | { ok: false; reason: string; versionOk?: boolean }

async function checkPinned(name: ToolName, file: string, env: NodeJS.ProcessEnv, want: Want): Promise<Check> {
  const id = await identify(name, file, env)
  if (!id.version || !sameVersion(id.version, want.version)) return { ok: false, reason: `${id.detail}; need ${want.version}` }
  const stamp = await checkStamp(file, want)
  return stamp.ok ? stamp : { ...stamp, versionOk: true }
}

async function checkStamp(file: string, want: Want): Promise<Check> {
  if (!want.sourceHash) return { ok: true }
  const stamp = await readSourceStamp(file).catch(() => undefined)
  if (stamp === want.sourceHash) return { ok: true }
  return {
    ok: false,
    reason: stamp
      ? `was built from other stampede output source (${stamp}; the checkout's is ${want.sourceHash})`
      : "is not Stampede's k6 build (no stampede output extension)",
  }
}

/** The tool's version: what it prints, or, when it prints a placeholder such as `0.0.0-DEV`,
 * the module version recorded in its Go build info. */
async function identify(name: ToolName, file: string, env: NodeJS.ProcessEnv): Promise<{ version?: string; detail: string }> {
  const res = await capture(file, VERSION_ARGS[name], { env, timeoutMs: 30_000 })
  const output = `${res.stdout}\n${res.stderr}`.trim()
  const printed = parseVersion(name, output)
  if (printed && !isPlaceholderVersion(printed)) return { version: printed, detail: `reports ${printed}` }

  const info = await readGoBuildInfo(file).catch(() => undefined)
  const modVersion = info?.main?.version
  if (info?.path === PINNED[name].module && modVersion && !isPlaceholderVersion(modVersion)) {
    const version = modVersion.replace(/^v/, '')
    return { version, detail: `reports ${printed ?? 'no version'}, built from ${info.main?.path}@${modVersion}` }
  }
  if (res.error && !printed) return { detail: `could not run \`${path.basename(file)} ${VERSION_ARGS[name].join(' ')}\`: ${res.error.message.split('\n')[0]}` }
  if (printed) return { version: printed, detail: `reports ${printed}` }
  return { detail: `printed no ${name} version (${JSON.stringify(output.split('\n')[0]?.slice(0, 120) ?? '')})` }
}

async function findOnPath(fileName: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((d) => d.length > 0)
  const found: string[] = []
  for (const dir of new Set(dirs)) {
    const candidate = path.resolve(dir, fileName)
    if (!found.includes(candidate) && (await isExecutable(candidate))) found.push(candidate)
  }
  return found
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false
    await access(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}
