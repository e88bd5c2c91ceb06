// Where the project keeps its tool cache. The repository root is found from this package's own
// location (never from the current directory), so every workspace, script and test agrees on it.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Absolute path of the monorepo root: the nearest ancestor of this package with a `.git` or a
 * `package.json` declaring workspaces; falls back to two levels above `packages/tools`. */
export function repoRoot(): string {
  let dir = PACKAGE_DIR
  for (;;) {
    const parent = path.dirname(dir)
    if (parent === dir) break
    dir = parent
    if (existsSync(path.join(dir, '.git')) || existsSync(path.join(dir, 'turbo.json'))) return dir
  }
  return path.resolve(PACKAGE_DIR, '..', '..')
}

/** `<repo root>/.tools/bin`, ignored by git. */
export const TOOL_CACHE_DIR: string = path.join(repoRoot(), '.tools', 'bin')

/** Env var that moves the cache (CI caches, tests). Not part of the documented order of lookups:
 * it only relocates the cache step. */
export const CACHE_DIR_ENV = 'STAMPEDE_TOOL_CACHE'

export function cacheDirFrom(env: NodeJS.ProcessEnv): string {
  const override = env[CACHE_DIR_ENV]
  return override ? path.resolve(override) : TOOL_CACHE_DIR
}

/** Env var naming the machine-wide cache shared by every checkout on this machine. */
export const SHARED_CACHE_DIR_ENV = 'STAMPEDE_SHARED_TOOL_CACHE'

/**
 * A cache outside the checkout (default `~/.cache/stampede/tools`), so a fresh clone on a machine
 * that built the tools once does not build them again. Off when only the project cache was
 * relocated (tests), so such a resolution never sees the machine's real tools.
 */
export function sharedCacheDirFrom(env: NodeJS.ProcessEnv): string | undefined {
  const explicit = env[SHARED_CACHE_DIR_ENV]
  if (explicit !== undefined) return explicit === '' ? undefined : path.resolve(explicit)
  if (env[CACHE_DIR_ENV]) return undefined
  const base = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : undefined)
  return base ? path.join(base, 'stampede', 'tools') : undefined
}
