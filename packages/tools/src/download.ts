// Best-effort download of the official release archive, for machines with internet but no Go.
// The archive's SHA-256 is checked against the release's published checksums file.
import path from 'node:path'
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, chmod } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { PINNED } from './versions.ts'
import type { ToolName } from './versions.ts'
import { capture } from './process.ts'
import { exe } from './build.ts'

export interface ReleaseAsset {
  url: string
  checksumsUrl: string
  archive: string
}

/** Where the official release for this platform lives; throws for platforms without one. */
export function releaseAsset(name: ToolName, platform: NodeJS.Platform = process.platform, arch: string = process.arch): ReleaseAsset {
  const goArch = arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : undefined
  if ((platform !== 'linux' && platform !== 'darwin') || !goArch) {
    throw new Error(`no official ${name} release is downloaded for ${platform}/${arch} (supported: linux and darwin on x64 or arm64)`)
  }
  const v = PINNED[name].version
  if (name === 'k6') {
    const base = `https://github.com/grafana/k6/releases/download/v${v}`
    const archive = platform === 'linux' ? `k6-v${v}-linux-${goArch}.tar.gz` : `k6-v${v}-macos-${goArch}.zip`
    return { url: `${base}/${archive}`, checksumsUrl: `${base}/k6-v${v}-checksums.txt`, archive }
  }
  const base = `https://github.com/temporalio/cli/releases/download/v${v}`
  const archive = `temporal_cli_${v}_${platform}_${goArch}.tar.gz`
  return { url: `${base}/${archive}`, checksumsUrl: `${base}/checksums.txt`, archive }
}

/** Download, verify and unpack the release into a staging directory; returns the binary path. */
export async function downloadRelease(
  name: ToolName,
  opts: { cacheDir: string; env: NodeJS.ProcessEnv; log: (line: string) => void; timeoutMs?: number },
): Promise<{ staged: string; cleanup: () => Promise<void> }> {
  const asset = releaseAsset(name)
  const workDir = path.dirname(opts.cacheDir)
  await mkdir(workDir, { recursive: true })
  const stagingDir = await mkdtemp(path.join(workDir, `download-${name}-`))
  const cleanup = (): Promise<void> => rm(stagingDir, { recursive: true, force: true })
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000
  try {
    opts.log(`[${name} download] ${asset.url}`)
    const checksums = await fetchOk(asset.checksumsUrl, timeoutMs).then((r) => r.text())
    const expected = checksums
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find((parts) => parts[1]?.replace(/^\*/, '') === asset.archive)?.[0]
    if (!expected) throw new Error(`${asset.checksumsUrl} lists no checksum for ${asset.archive}`)

    const archivePath = path.join(stagingDir, asset.archive)
    const res = await fetchOk(asset.url, timeoutMs)
    if (!res.body) throw new Error(`empty response from ${asset.url}`)
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(archivePath))
    const actual = createHash('sha256').update(await readFile(archivePath)).digest('hex')
    if (actual !== expected.toLowerCase()) {
      throw new Error(`checksum mismatch for ${asset.archive}: expected ${expected}, got ${actual}`)
    }

    // bsdtar (macOS) unpacks zip archives too; GNU tar only needs the tar.gz case.
    const unpackDir = path.join(stagingDir, 'unpacked')
    await mkdir(unpackDir)
    const tar = await capture('tar', ['-xf', archivePath, '-C', unpackDir], { env: opts.env, timeoutMs: 120_000 })
    if (tar.code !== 0) throw new Error(`could not unpack ${asset.archive}: ${tar.stderr.trim() || tar.error?.message}`)
    const found = await findFile(unpackDir, exe(name))
    if (!found) throw new Error(`${asset.archive} does not contain ${exe(name)}`)
    await chmod(found, 0o755)
    return { staged: found, cleanup }
  } catch (err) {
    await cleanup()
    throw new Error(`could not download ${name} v${PINNED[name].version} from ${asset.url}: ${describeFetchError(err)}`, { cause: err })
  }
}

async function fetchOk(url: string, timeoutMs: number): Promise<Response> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' })
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText} for ${url}`)
  return res
}

async function findFile(dir: string, fileName: string): Promise<string | undefined> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isFile() && entry.name === fileName) return full
    if (entry.isDirectory()) {
      const inner = await findFile(full, fileName)
      if (inner) return inner
    }
  }
  return undefined
}

/** Node's fetch hides the useful part ("getaddrinfo ENOTFOUND github.com") in `cause`. */
function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = err.cause instanceof Error ? err.cause.message : undefined
  return cause && !err.message.includes(cause) ? `${err.message} (${cause})` : err.message
}
