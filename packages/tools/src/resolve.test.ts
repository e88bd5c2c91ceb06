import path from 'node:path'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { resolveTool } from './resolve.ts'
import { fakeTool, goBuildInfoBlob, shQuote, tempDir } from './testing.ts'
import { K6_SOURCE_DIR, k6SourceHash, readSourceStamp } from './k6source.ts'
import { PINNED } from './versions.ts'

const K6_OK = 'k6 v2.2.0 (commit/devel, go1.26.8, linux/amd64)'
const K6_OLD = 'k6 v0.49.0 (go1.21.6, linux/amd64)'
const TEMPORAL_DEV = 'temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)'

/** A sandbox whose PATH contains only the given directories and whose cache is private. */
async function sandbox() {
  const root = await tempDir()
  const cacheDir = path.join(root, 'tools', 'bin')
  const lines: string[] = []
  // A stand-in for packages/k6-output: the resolver hashes its go.mod, go.sum and *.go files.
  const src = path.join(root, 'k6-output')
  await mkdir(path.join(src, 'cmd', 'k6'), { recursive: true })
  await writeFile(path.join(src, 'go.mod'), 'module stampede.local/k6-output\n')
  await writeFile(path.join(src, 'go.sum'), '')
  await writeFile(path.join(src, 'output.go'), 'package stampede\n')
  await writeFile(path.join(src, 'cmd', 'k6', 'main.go'), 'package main\n')
  const hash = await k6SourceHash(src)
  /** A fake k6 that is Stampede's build of the current source (the stamp the build embeds). */
  const stampedeK6 = (dir: string, output = K6_OK, stampHash = hash) => fakeTool(dir, 'k6', output, Buffer.from(`stampede-k6-output-source:${stampHash}`))
  const env = (pathDirs: string[], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: pathDirs.join(path.delimiter),
    STAMPEDE_TOOL_CACHE: cacheDir,
    ...extra,
  })
  return { root, cacheDir, lines, env, src, hash, stampedeK6, log: (l: string) => void lines.push(l) }
}

describe('resolveTool order', () => {
  it('uses the explicit env path even when PATH has the pinned version, and reports its version', async () => {
    const s = await sandbox()
    await s.stampedeK6(path.join(s.root, 'p'))
    const explicit = await fakeTool(path.join(s.root, 'custom'), 'my-k6', 'k6 v2.1.0 (go1.26, linux/amd64)')
    const tool = await resolveTool('k6', { env: s.env([path.join(s.root, 'p')], { K6_BIN_PATH: explicit }), log: s.log, k6SourceDir: s.src, allowBuild: false })
    expect(tool).toEqual({ name: 'k6', path: explicit, version: '2.1.0', source: 'env' })
    expect(s.lines.join('\n')).toMatch(/pinned version is 2\.2\.0/)
  })

  it('fails clearly when the explicit env path is not an executable', async () => {
    const s = await sandbox()
    const missing = path.join(s.root, 'nope', 'k6')
    await expect(resolveTool('k6', { env: s.env([], { K6_BIN_PATH: missing }), log: s.log, k6SourceDir: s.src })).rejects.toThrow(/K6_BIN_PATH=.*nope\/k6 is not an executable file/)
  })

  it('skips a wrong version on PATH and takes the next PATH entry with the pinned one', async () => {
    const s = await sandbox()
    const oldDir = path.join(s.root, 'old')
    const newDir = path.join(s.root, 'new')
    await fakeTool(oldDir, 'k6', K6_OLD)
    const good = await s.stampedeK6(newDir)
    await s.stampedeK6(s.cacheDir)
    const tool = await resolveTool('k6', { env: s.env([oldDir, newDir]), log: s.log, k6SourceDir: s.src, allowBuild: false })
    expect(tool).toEqual({ name: 'k6', path: good, version: '2.2.0', source: 'path' })
    expect(s.lines.join('\n')).toMatch(/skipping .*old\/k6 on PATH: reports 0\.49\.0; need 2\.2\.0/)
  })

  it('falls back to the tool cache when PATH only has a wrong version', async () => {
    const s = await sandbox()
    const oldDir = path.join(s.root, 'old')
    await fakeTool(oldDir, 'k6', K6_OLD)
    const cached = await s.stampedeK6(s.cacheDir)
    const tool = await resolveTool('k6', { env: s.env([oldDir]), log: s.log, k6SourceDir: s.src, allowBuild: false })
    expect(tool).toEqual({ name: 'k6', path: cached, version: '2.2.0', source: 'cache' })
  })

  it('ignores a non-executable file with the tool name', async () => {
    const s = await sandbox()
    const dir = path.join(s.root, 'p')
    await mkdir(dir, { recursive: true })
    await writeFile(path.join(dir, 'k6'), 'not executable')
    const cached = await s.stampedeK6(s.cacheDir)
    expect((await resolveTool('k6', { env: s.env([dir]), log: s.log, k6SourceDir: s.src, allowBuild: false })).path).toBe(cached)
  })

  it('accepts an unstamped temporal build whose Go build info says v1.5.1, and rejects one that says otherwise', async () => {
    const s = await sandbox()
    const info = (v: string) =>
      goBuildInfoBlob('go1.26.8', ['path\tgithub.com/temporalio/cli/cmd/temporal', `mod\tgithub.com/temporalio/cli\t${v}\th1:x=`])
    const cached = await fakeTool(s.cacheDir, 'temporal', TEMPORAL_DEV, info('v1.5.1'))
    expect(await resolveTool('temporal', { env: s.env([]), log: s.log, k6SourceDir: s.src, allowBuild: false })).toEqual({
      name: 'temporal',
      path: cached,
      version: '1.5.1',
      source: 'cache',
    })

    await fakeTool(s.cacheDir, 'temporal', TEMPORAL_DEV, info('v1.6.0'))
    await expect(resolveTool('temporal', { env: s.env([]), log: s.log, k6SourceDir: s.src, allowBuild: false })).rejects.toThrow(
      /temporal v1\.5\.1 is not available[\s\S]*built from github\.com\/temporalio\/cli@v1\.6\.0; need 1\.5\.1/,
    )
  })

  it('without provisioning, lists everything it tried', async () => {
    const s = await sandbox()
    const err = await resolveTool('k6', { env: s.env([]), log: s.log, k6SourceDir: s.src, allowBuild: false }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    const message = (err as Error).message
    expect(message).toContain('K6_BIN_PATH is not set')
    expect(message).toContain('no k6 on PATH')
    expect(message).toContain(`nothing in the tool cache ${s.cacheDir}`)
    expect(message).toContain('npm run tools')
  })
})

/** A fake `go`: `go build` in the k6 source directory writes a fake k6 carrying the stamp from
 * `-ldflags -X …=<stamp>` (as the real build does), `go install` of temporal writes a fake
 * temporal. Each build appends a line to `builds.log`. */
async function fakeGo(root: string, srcDir: string): Promise<{ dir: string; buildsLog: string }> {
  const dir = path.join(root, 'gobin')
  await mkdir(dir, { recursive: true })
  const buildsLog = path.join(root, 'builds.log')
  const k6Template = path.join(root, 'k6-template')
  await writeFile(k6Template, `#!/bin/sh\nprintf '%s\\n' ${shQuote(K6_OK)}\nexit 0\n`)
  const script = `#!/bin/sh
case "$1" in
install)
  for last; do :; done
  case "$last" in
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
build)
  [ "$PWD" = ${shQuote(srcDir)} ] || { echo "wrong dir $PWD" >&2; exit 3; }
  [ "$2 $3 $5 $7" = "-trimpath -ldflags -o ./cmd/k6" ] || { echo "unexpected arguments $*" >&2; exit 4; }
  [ "$CGO_ENABLED" = 0 ] || { echo "CGO_ENABLED is not 0" >&2; exit 4; }
  echo "go: compiling go.k6.io/k6/v2" >&2
  echo "k6" >> ${shQuote(buildsLog)}
  /bin/cat ${shQuote(k6Template)} > "$6"
  printf '%s\\n' "\${4#*=}" >> "$6"
  /bin/chmod +x "$6"
  exit 0 ;;
esac
exit 5
`
  await writeFile(path.join(dir, 'go'), script)
  await chmod(path.join(dir, 'go'), 0o755)
  return { dir, buildsLog }
}

describe('resolveTool provisioning with Go (fake go, no real build)', () => {
  it("builds Stampede's k6 with go build in the extension module, stamps the source hash, streams go output, and caches the result", async () => {
    const s = await sandbox()
    const go = await fakeGo(s.root, s.src)
    const tool = await resolveTool('k6', { env: s.env([go.dir]), log: s.log, k6SourceDir: s.src })
    expect(tool).toEqual({ name: 'k6', path: path.join(s.cacheDir, 'k6'), version: '2.2.0', source: 'built' })
    expect(s.lines).toContain('[k6 build] go: compiling go.k6.io/k6/v2')
    expect(await readSourceStamp(tool.path)).toBe(s.hash)

    // Second resolution finds it in the cache, no rebuild.
    const again = await resolveTool('k6', { env: s.env([go.dir]), log: s.log, k6SourceDir: s.src })
    expect(again.source).toBe('cache')
    expect((await readFile(go.buildsLog, 'utf8')).trim().split('\n')).toEqual(['k6'])
    expect(existsSync(path.join(s.root, 'tools', 'k6.lock'))).toBe(false)
  })

  it('stamps the temporal version through ldflags so the built binary reports 1.5.1', async () => {
    const s = await sandbox()
    const go = await fakeGo(s.root, s.src)
    const tool = await resolveTool('temporal', { env: s.env([go.dir]), log: s.log, k6SourceDir: s.src })
    expect(tool).toMatchObject({ version: '1.5.1', source: 'built', path: path.join(s.cacheDir, 'temporal') })
  })

  it('builds once when two resolutions run at the same time', async () => {
    const s = await sandbox()
    const go = await fakeGo(s.root, s.src)
    const [a, b] = await Promise.all([
      resolveTool('k6', { env: s.env([go.dir]), log: s.log, k6SourceDir: s.src }),
      resolveTool('k6', { env: s.env([go.dir]), log: s.log, k6SourceDir: s.src }),
    ])
    expect([a.source, b.source].sort()).toEqual(['built', 'cache'])
    expect(a.path).toBe(b.path)
    expect((await readFile(go.buildsLog, 'utf8')).trim().split('\n')).toEqual(['k6'])
  })

  it('keeps a build in the machine cache, so a fresh checkout copies it instead of building again', async () => {
    const s = await sandbox()
    const go = await fakeGo(s.root, s.src)
    const shared = path.join(s.root, 'machine-cache')
    const built = await resolveTool('k6', { env: s.env([go.dir], { STAMPEDE_SHARED_TOOL_CACHE: shared }), log: s.log, k6SourceDir: s.src })
    expect(built.source).toBe('built')
    expect(existsSync(path.join(shared, `k6-2.2.0-${s.hash}`, 'k6'))).toBe(true)

    // Another checkout: an empty project cache on the same machine.
    const otherCache = path.join(s.root, 'other-checkout', '.tools', 'bin')
    const copied = await resolveTool('k6', {
      env: s.env([go.dir], { STAMPEDE_TOOL_CACHE: otherCache, STAMPEDE_SHARED_TOOL_CACHE: shared }),
      log: s.log, k6SourceDir: s.src,
    })
    expect(copied).toEqual({ name: 'k6', path: path.join(otherCache, 'k6'), version: '2.2.0', source: 'cache' })
    expect((await readFile(go.buildsLog, 'utf8')).trim().split('\n')).toEqual(['k6'])
    expect(s.lines.some((l) => l.startsWith(`copied k6 2.2.0 (stampede output ${s.hash}) from the machine cache`))).toBe(true)
  })
})

describe("resolveTool and the source of Stampede's k6", () => {
  it('rebuilds when the extension source changes, but not for a change to its tests', async () => {
    const s = await sandbox()
    const go = await fakeGo(s.root, s.src)
    const first = await resolveTool('k6', { env: s.env([go.dir]), log: s.log, k6SourceDir: s.src })
    expect(first.source).toBe('built')

    await writeFile(path.join(s.src, 'output_test.go'), 'package stampede\n')
    expect((await resolveTool('k6', { env: s.env([go.dir]), log: s.log, k6SourceDir: s.src })).source).toBe('cache')

    await writeFile(path.join(s.src, 'output.go'), 'package stampede\n\nconst changed = true\n')
    const newHash = await k6SourceHash(s.src)
    expect(newHash).not.toBe(s.hash)
    const rebuilt = await resolveTool('k6', { env: s.env([go.dir]), log: s.log, k6SourceDir: s.src })
    expect(rebuilt.source).toBe('built')
    expect(await readSourceStamp(rebuilt.path)).toBe(newHash)
    expect(s.lines.join('\n')).toContain(`was built from other stampede output source (${s.hash}; the checkout's is ${newHash})`)
    expect((await readFile(go.buildsLog, 'utf8')).trim().split('\n')).toEqual(['k6', 'k6'])
  })

  it('skips a plain k6 of the pinned version on PATH and replaces a plain one in the cache', async () => {
    const s = await sandbox()
    const go = await fakeGo(s.root, s.src)
    const plainDir = path.join(s.root, 'plain')
    await fakeTool(plainDir, 'k6', K6_OK)
    await fakeTool(s.cacheDir, 'k6', K6_OK)
    const tool = await resolveTool('k6', { env: s.env([plainDir, go.dir]), log: s.log, k6SourceDir: s.src })
    expect(tool.source).toBe('built')
    expect(s.lines.join('\n')).toMatch(/skipping .*plain\/k6 on PATH: is not Stampede's k6 build \(no stampede output extension\)/)
  })

  it('keeps a plain k6 in the cache when there is no Go to build Stampede\'s k6, and says what is missing', async () => {
    const s = await sandbox()
    const cached = await fakeTool(s.cacheDir, 'k6', K6_OK)
    const tool = await resolveTool('k6', { env: s.env([]), log: s.log, k6SourceDir: s.src, allowBuild: false })
    expect(tool).toEqual({ name: 'k6', path: cached, version: '2.2.0', source: 'cache' })
    expect(s.lines.join('\n')).toMatch(/without Go on PATH Stampede's k6 cannot be built here/)
  })

  it('uses an explicit K6_BIN_PATH that lacks the extension, with a warning', async () => {
    const s = await sandbox()
    const explicit = await fakeTool(path.join(s.root, 'custom'), 'k6', K6_OK)
    const tool = await resolveTool('k6', { env: s.env([], { K6_BIN_PATH: explicit }), log: s.log, k6SourceDir: s.src })
    expect(tool).toEqual({ name: 'k6', path: explicit, version: '2.2.0', source: 'env' })
    expect(s.lines.join('\n')).toMatch(/K6_BIN_PATH points to .* which is not Stampede's k6 build/)
  })

  it('reads a stamp split across two read chunks', async () => {
    const s = await sandbox()
    const file = path.join(s.root, 'big')
    const stamp = `stampede-k6-output-source:${s.hash}`
    // The reader scans 4 MiB chunks; put the stamp across the first boundary.
    const body = Buffer.alloc(4 * 1024 * 1024 + 64, 0x2e)
    body.write(stamp, 4 * 1024 * 1024 - 10, 'latin1')
    await writeFile(file, body)
    expect(await readSourceStamp(file)).toBe(s.hash)
  })
})

describe('the Stampede k6 module', () => {
  it('pins the same k6 version as the tool pin', async () => {
    const goMod = await readFile(path.join(K6_SOURCE_DIR, 'go.mod'), 'utf8')
    expect(goMod).toMatch(new RegExp(String.raw`^\s*go\.k6\.io/k6/v2 v${PINNED.k6.version.replace(/\./g, '\\.')}$`, 'm'))
  })
})
