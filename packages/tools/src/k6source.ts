// Stampede's k6 is k6 plus Stampede's output extension, built from the Go module in
// packages/k6-output. The tool cache is keyed on that module's source: a hash of go.mod, go.sum
// and every non-test *.go file is stamped into the binary at build time (`-ldflags -X`), and a
// cached k6 whose stamp differs from the checkout's source is rebuilt.
import path from 'node:path'
import { createHash } from 'node:crypto'
import { open, readdir, readFile } from 'node:fs/promises'
import { repoRoot } from './paths.ts'

/** The Go module with the extension and the k6 main package. */
export const K6_SOURCE_DIR: string = path.join(repoRoot(), 'packages', 'k6-output')
/** The main package inside it (k6's command line with the extension blank-imported). */
export const K6_MAIN_PACKAGE = './cmd/k6'
/** The Go variable the build stamps (see packages/k6-output/output.go). */
export const STAMP_VARIABLE = 'stampede.local/k6-output.SourceStamp'
const STAMP_PREFIX = 'stampede-k6-output-source:'
const HASH_LENGTH = 16

/** Hash of the extension's source: go.mod, go.sum and *.go files except tests, by relative path. */
export async function k6SourceHash(dir: string = K6_SOURCE_DIR): Promise<string> {
  const files = (await listSource(dir, '')).sort()
  if (!files.includes('go.mod')) throw new Error(`${dir} has no go.mod; Stampede's k6 is built from that Go module`)
  const hash = createHash('sha256')
  for (const rel of files) {
    hash.update(`${rel}\0`)
    hash.update(await readFile(path.join(dir, rel)))
    hash.update('\0')
  }
  return hash.digest('hex').slice(0, HASH_LENGTH)
}

async function listSource(dir: string, rel: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const name = entry.name
    const relPath = rel ? `${rel}/${name}` : name
    if (entry.isDirectory()) {
      // Go ignores directories starting with . or _ and testdata; node_modules is npm's.
      if (name.startsWith('.') || name.startsWith('_') || name === 'testdata' || name === 'node_modules') continue
      out.push(...(await listSource(dir, relPath)))
    } else if (entry.isFile()) {
      if ((!rel && (name === 'go.mod' || name === 'go.sum')) || (name.endsWith('.go') && !name.endsWith('_test.go'))) out.push(relPath)
    }
  }
  return out
}

/** The `-ldflags` value that stamps `hash` into the binary. */
export function stampLdflags(hash: string): string {
  return `-X ${STAMP_VARIABLE}=${STAMP_PREFIX}${hash}`
}

const CHUNK = 4 * 1024 * 1024

/** The source hash stamped into a binary, or undefined when it has none (a plain k6). Scans the
 * file in chunks for the stamp prefix, which only the stamped value contains. */
export async function readSourceStamp(file: string): Promise<string | undefined> {
  const marker = Buffer.from(STAMP_PREFIX, 'latin1')
  const keep = marker.length + HASH_LENGTH
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.alloc(CHUNK + keep)
    let carry = 0
    let position = 0
    for (;;) {
      const { bytesRead } = await fh.read(buf, carry, CHUNK, position)
      const valid = carry + bytesRead
      let i = buf.subarray(0, valid).indexOf(marker)
      while (i !== -1) {
        if (i + keep <= valid) {
          const hash = buf.subarray(i + marker.length, i + keep).toString('latin1')
          if (/^[0-9a-f]+$/.test(hash)) return hash
        } else if (bytesRead > 0) {
          break // the hash continues in the next chunk; keep this tail
        }
        i = buf.subarray(0, valid).indexOf(marker, i + 1)
      }
      if (bytesRead === 0) return undefined
      position += bytesRead
      carry = Math.min(keep - 1, valid)
      buf.copy(buf, 0, valid - carry, valid)
    }
  } finally {
    await fh.close()
  }
}
