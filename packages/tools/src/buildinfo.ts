// Reads the build information the Go linker embeds in every binary (what `go version -m` shows),
// without needing Go installed. Used to verify a binary whose own version output is a placeholder.
// Format (Go >= 1.18): a 16-byte-aligned 32-byte header starting with "\xff Go buildinf:", then,
// when flag bit 2 is set, two varint-length-prefixed strings: the Go version and the module info.
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1')
const HEADER_SIZE = 32
const FLAG_VERSION_INLINE = 0x2
const CHUNK = 4 * 1024 * 1024
const TAIL_READ = 256 * 1024

export interface GoBuildInfo {
  goVersion: string
  /** Main package path, e.g. `github.com/temporalio/cli/cmd/temporal`. */
  path?: string
  /** Main module, e.g. `{ path: 'github.com/temporalio/cli', version: 'v1.5.1' }`. */
  main?: { path: string; version: string }
}

/** Parse Go build info from a binary; undefined when it has none (not a Go binary, or a format
 * older than Go 1.18). Scans the file in chunks, so large binaries cost one sequential read. */
export async function readGoBuildInfo(file: string): Promise<GoBuildInfo | undefined> {
  const fh = await open(file, 'r')
  try {
    const offset = await findMagic(fh)
    if (offset === undefined) return undefined
    const buf = Buffer.alloc(TAIL_READ)
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset)
    return parseBuildInfoBlob(buf.subarray(0, bytesRead))
  } finally {
    await fh.close()
  }
}

async function findMagic(fh: FileHandle): Promise<number | undefined> {
  const buf = Buffer.alloc(CHUNK + MAGIC.length)
  let position = 0
  let carry = 0
  for (;;) {
    const { bytesRead } = await fh.read(buf, carry, CHUNK, position)
    if (bytesRead === 0) return undefined
    const valid = carry + bytesRead
    const base = position - carry
    let i = buf.indexOf(MAGIC, 0)
    while (i !== -1 && i + MAGIC.length <= valid) {
      if ((base + i) % 16 === 0) return base + i
      i = buf.indexOf(MAGIC, i + 1)
    }
    position += bytesRead
    // Keep the last bytes so a header split across two chunks is still found.
    carry = Math.min(MAGIC.length - 1, valid)
    buf.copy(buf, 0, valid - carry, valid)
  }
}

/** Parse the bytes starting at the build-info header. Exported for tests. */
export function parseBuildInfoBlob(blob: Buffer): GoBuildInfo | undefined {
  if (blob.length < HEADER_SIZE || !blob.subarray(0, MAGIC.length).equals(MAGIC)) return undefined
  const flags = blob[MAGIC.length + 1] ?? 0
  if ((flags & FLAG_VERSION_INLINE) === 0) return undefined
  let pos = HEADER_SIZE
  const readString = (): string | undefined => {
    let len = 0
    let shift = 0
    for (;;) {
      const b = blob[pos++]
      if (b === undefined || shift > 28) return undefined
      len |= (b & 0x7f) << shift
      if ((b & 0x80) === 0) break
      shift += 7
    }
    if (pos + len > blob.length) return undefined
    const s = blob.subarray(pos, pos + len).toString('utf8')
    pos += len
    return s
  }
  const goVersion = readString()
  const modinfo = readString()
  if (goVersion === undefined) return undefined
  const info: GoBuildInfo = { goVersion }
  // The module info is wrapped in 16-byte sentinels; lines are tab-separated.
  const text = modinfo && modinfo.length >= 32 ? modinfo.slice(16, -16) : (modinfo ?? '')
  for (const line of text.split('\n')) {
    const [kind, a, b] = line.split('\t')
    if (kind === 'path' && a) info.path = a
    else if (kind === 'mod' && a && b) info.main = { path: a, version: b }
  }
  return info
}
