import path from 'node:path'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { resolveTool } from './resolve.ts'
import { fakeTool, goBuildInfoBlob, shQuote, tempDir } from './testing.ts'

const K6_OK = 'k6 v2.2.0 (commit/devel, go1.26.8, linux/amd64)'
const K6_OLD = 'k6 v0.49.0 (go1.21.6, linux/amd64)'
const TEMPORAL_DEV = 'temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)'

/** A sandbox whose PATH contains only the given directories and whose cache is private. */
async function sandbox() {
  const root = await tempDir()
  const cacheDir = path.join(root, 'tools', 'bin')
  const lines: string[] = []
  const env = (pathDirs: string[], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: pathDirs.join(path.delimiter),
    STAMPEDE_TOOL_CACHE: cacheDir,
    ...extra,
  })
  return { root, cacheDir, lines, env, log: (l: string) => void lines.push(l) }
}

describe('resolveTool order', () => {
  it('uses the explicit env path even when PATH has the pinned version, and reports its version', async () => {
    const s = await sandbox()
    await fakeTool(path.join(s.root, 'p'), 'k6', K6_OK)
    const explicit = await fakeTool(path.join(s.root, 'custom'), 'my-k6', 'k6 v2.1.0 (go1.26, linux/amd64)')
    const tool = await resolveTool('k6', { env: s.env([path.join(s.root, 'p')], { K6_BIN_PATH: explicit }), log: s.log, allowBuild: false })
    expect(tool).toEqual({ name: 'k6', path: explicit, version: '2.1.0', source: 'env' })
    expect(s.lines.join('\n')).toMatch(/pinned version is 2\.2\.0/)
  })

  it('fails clearly when the explicit env path is not an executable', async () => {
    const s = await sandbox()
    const missing = path.join(s.root, 'nope', 'k6')
    await expect(resolveTool('k6', { env: s.env([], { K6_BIN_PATH: missing }), log: s.log })).rejects.toThrow(/K6_BIN_PATH=.*nope\/k6 is not an executable file/)
  })

  it('skips a wrong version on PATH and takes the next PATH entry with the pinned one', async () => {
    const s = await sandbox()
    const oldDir = path.join(s.root, 'old')
    const newDir = path.join(s.root, 'new')
    await fakeTool(oldDir, 'k6', K6_OLD)
    const good = await fakeTool(newDir, 'k6', K6_OK)
    await fakeTool(s.cacheDir, 'k6', K6_OK)
    const tool = await resolveTool('k6', { env: s.env([oldDir, newDir]), log: s.log, allowBuild: false })
    expect(tool).toEqual({ name: 'k6', path: good, version: '2.2.0', source: 'path' })
    expect(s.lines.join('\n')).toMatch(/skipping .*old\/k6 on PATH: reports 0\.49\.0; need 2\.2\.0/)
  })

  it('falls back to the tool cache when PATH only has a wrong version', async () => {
    const s = await sandbox()
    const oldDir = path.join(s.root, 'old')
    await fakeTool(oldDir, 'k6', K6_OLD)
    const cached = await fakeTool(s.cacheDir, 'k6', K6_OK)
    const tool = await resolveTool('k6', { env: s.env([oldDir]), log: s.log, allowBuild: false })
    expect(tool).toEqual({ name: 'k6', path: cached, version: '2.2.0', source: 'cache' })
  })

  it('ignores a non-executable file with the tool name', async () => {
    const s = await sandbox()
    const dir = path.join(s.root, 'p')
    await mkdir(dir, { recursive: true })
    await writeFile(path.join(dir, 'k6'), 'not executable')
    const cached = await fakeTool(s.cacheDir, 'k6', K6_OK)
    expect((await resolveTool('k6', { env: s.env([dir]), log: s.log, allowBuild: false })).path).toBe(cached)
  })

  it('accepts an unstamped temporal build whose Go build info says v1.5.1, and rejects one that says otherwise', async () => {
    const s = await sandbox()
    const info = (v: string) =>
      goBuildInfoBlob('go1.26.8', ['path\tgithub.com/temporalio/cli/cmd/temporal', `mod\tgithub.com/temporalio/cli\t${v}\th1:x=`])
    const cached = await fakeTool(s.cacheDir, 'temporal', TEMPORAL_DEV, info('v1.5.1'))
    expect(await resolveTool('temporal', { env: s.env([]), log: s.log, allowBuild: false })).toEqual({
      name: 'temporal',
      path: cached,
      version: '1.5.1',
      source: 'cache',
    })

    await fakeTool(s.cacheDir, 'temporal', TEMPORAL_DEV, info('v1.6.0'))
    await expect(resolveTool('temporal', { env: s.env([]), log: s.log, allowBuild: false })).rejects.toThrow(
      /temporal v1\.5\.1 is not available[\s\S]*built from github\.com\/temporalio\/cli@v1\.6\.0; need 1\.5\.1/,
    )
  })

  it('without provisioning, lists everything it tried', async () => {
    const s = await sandbox()
    const err = await resolveTool('k6', { env: s.env([]), log: s.log, allowBuild: false }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    const message = (err as Error).message
    expect(message).toContain('K6_BIN_PATH is not set')
    expect(message).toContain('no k6 on PATH')
    expect(message).toContain(`nothing in the tool cache ${s.cacheDir}`)
    expect(message).toContain('npm run tools')
  })
})

/** A fake `go` that behaves like this machine's: `go install` of k6 fails with the proxy's 404,
 * `go mod download -json` reports a module directory, `go build -o` and `go install` of temporal
 * write fake binaries. Each build appends a line to `builds.log`. */
async function fakeGo(root: string): Promise<{ dir: string; buildsLog: string }> {
  const dir = path.join(root, 'gobin')
  const modDir = path.join(root, 'modcache', 'go.k6.io', 'k6', 'v2@v2.2.0')
  await mkdir(dir, { recursive: true })
  await mkdir(modDir, { recursive: true })
  const buildsLog = path.join(root, 'builds.log')
  const k6Script = `#!/bin/sh\nprintf '%s\\n' ${shQuote(K6_OK)}\n`
  const script = `#!/bin/sh
case "$1" in
install)
  for last; do :; done
  case "$last" in
  go.k6.io/k6/v2@v2.2.0)
    echo "go: go.k6.io/k6/v2@v2.2.0: reading https://proxy.golang.org/go.k6.io/k6/v2/@v/list: 404 Not Found" >&2
    exit 1 ;;
  github.com/temporalio/cli/cmd/temporal@v1.5.1)
    case "$*" in
    *temporalcli.Version=1.5.1*) v=1.5.1 ;;
    *) v=0.0.0-DEV ;;
    esac
    echo "go: downloading github.com/temporalio/cli v1.5.1" >&2
    echo "temporal" >> ${shQuote(buildsLog)}
    printf '#!/bin/sh\\necho "temporal version %s (Server 1.29.1, UI 2.42.1)"\\n' "$v" > "$GOBIN/temporal"
    /bin/chmod +x "$GOBIN/temporal"
    exit 0 ;;
  esac
  exit 2 ;;
mod)
  echo '{"Path":"go.k6.io/k6/v2","Version":"v2.2.0","Dir":${JSON.stringify(modDir)}}'
  exit 0 ;;
build)
  [ "$PWD" = ${shQuote(modDir)} ] || { echo "wrong dir $PWD" >&2; exit 3; }
  case "$GOFLAGS" in *-mod=mod*) ;; *) echo "GOFLAGS lacks -mod=mod" >&2; exit 4 ;; esac
  echo "go: compiling go.k6.io/k6/v2" >&2
  /bin/sleep 1
  echo "k6" >> ${shQuote(buildsLog)}
  printf '%s' ${shQuote(k6Script)} > "$4"
  /bin/chmod +x "$4"
  exit 0 ;;
esac
exit 5
`
  await writeFile(path.join(dir, 'go'), script)
  await chmod(path.join(dir, 'go'), 0o755)
  return { dir, buildsLog }
}

describe('resolveTool provisioning with Go (fake go, no real build)', () => {
  it('falls back from go install to go mod download + go build for k6, streams go output, and caches the result', async () => {
    const s = await sandbox()
    const go = await fakeGo(s.root)
    const tool = await resolveTool('k6', { env: s.env([go.dir]), log: s.log })
    expect(tool).toEqual({ name: 'k6', path: path.join(s.cacheDir, 'k6'), version: '2.2.0', source: 'built' })
    expect(s.lines).toContain('[k6 build] go: compiling go.k6.io/k6/v2')
    expect(s.lines.some((l) => l.startsWith('[k6 build] go: go.k6.io/k6/v2@v2.2.0: reading'))).toBe(true)

    // Second resolution finds it in the cache, no rebuild.
    const again = await resolveTool('k6', { env: s.env([go.dir]), log: s.log })
    expect(again.source).toBe('cache')
    expect((await readFile(go.buildsLog, 'utf8')).trim().split('\n')).toEqual(['k6'])
    expect(existsSync(path.join(s.root, 'tools', 'k6.lock'))).toBe(false)
  })

  it('stamps the temporal version through ldflags so the built binary reports 1.5.1', async () => {
    const s = await sandbox()
    const go = await fakeGo(s.root)
    const tool = await resolveTool('temporal', { env: s.env([go.dir]), log: s.log })
    expect(tool).toMatchObject({ version: '1.5.1', source: 'built', path: path.join(s.cacheDir, 'temporal') })
  })

  it('builds once when two resolutions run at the same time', async () => {
    const s = await sandbox()
    const go = await fakeGo(s.root)
    const [a, b] = await Promise.all([
      resolveTool('k6', { env: s.env([go.dir]), log: s.log }),
      resolveTool('k6', { env: s.env([go.dir]), log: s.log }),
    ])
    expect([a.source, b.source].sort()).toEqual(['built', 'cache'])
    expect(a.path).toBe(b.path)
    expect((await readFile(go.buildsLog, 'utf8')).trim().split('\n')).toEqual(['k6'])
  })

  it('keeps a build in the machine cache, so a fresh checkout copies it instead of building again', async () => {
    const s = await sandbox()
    const go = await fakeGo(s.root)
    const shared = path.join(s.root, 'machine-cache')
    const built = await resolveTool('k6', { env: s.env([go.dir], { STAMPEDE_SHARED_TOOL_CACHE: shared }), log: s.log })
    expect(built.source).toBe('built')
    expect(existsSync(path.join(shared, 'k6-2.2.0', 'k6'))).toBe(true)

    // Another checkout: an empty project cache on the same machine.
    const otherCache = path.join(s.root, 'other-checkout', '.tools', 'bin')
    const copied = await resolveTool('k6', {
      env: s.env([go.dir], { STAMPEDE_TOOL_CACHE: otherCache, STAMPEDE_SHARED_TOOL_CACHE: shared }),
      log: s.log,
    })
    expect(copied).toEqual({ name: 'k6', path: path.join(otherCache, 'k6'), version: '2.2.0', source: 'cache' })
    expect((await readFile(go.buildsLog, 'utf8')).trim().split('\n')).toEqual(['k6'])
    expect(s.lines.some((l) => l.startsWith('copied k6 2.2.0 from the machine cache'))).toBe(true)
  })
})
