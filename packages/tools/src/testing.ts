// Helpers for tests: fake tool executables (shell scripts using only shell built-ins and
// absolute paths, so tests can run with a PATH made of temporary directories alone).
import path from 'node:path'
import os from 'node:os'
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises'

export async function tempDir(prefix = 'stampede-tools-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix))
}

/** Single-quote a string for sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** Write an executable shell script `dir/name` that prints `output` for any arguments. If
 * `buildInfo` is given it is appended (16-byte aligned) after `exit`, where the shell never
 * reads, the way the Go linker embeds it in a real binary. */
export async function fakeTool(dir: string, name: string, output: string, buildInfo?: Buffer): Promise<string> {
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, name)
  const script = Buffer.from(`#!/bin/sh\nprintf '%s\\n' ${shQuote(output)}\nexit 0\n`)
  const parts: Buffer[] = [script]
  if (buildInfo) parts.push(Buffer.alloc((16 - (script.length % 16)) % 16, 0x0a), buildInfo)
  await writeFile(file, Buffer.concat(parts))
  await chmod(file, 0o755)
  return file
}

/** A Go build-info blob as the Go linker writes it (inline-string format, Go >= 1.18). */
export function goBuildInfoBlob(goVersion: string, modinfoLines: string[]): Buffer {
  const str = (s: string): Buffer => {
    const bytes = Buffer.from(s, 'utf8')
    const len: number[] = []
    let n = bytes.length
    do {
      len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0))
      n >>>= 7
    } while (n > 0)
    return Buffer.concat([Buffer.from(len), bytes])
  }
  const header = Buffer.alloc(32)
  header.write('\xff Go buildinf:', 0, 'latin1')
  header[14] = 8 // pointer size
  header[15] = 0x2 // strings inline
  const sentinel = '0'.repeat(16)
  const modinfo = `${sentinel}${modinfoLines.join('\n')}\n${sentinel}`
  return Buffer.concat([header, str(goVersion), str(modinfo)])
}
