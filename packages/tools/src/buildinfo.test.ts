import path from 'node:path'
import { writeFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { parseBuildInfoBlob, readGoBuildInfo } from './buildinfo.ts'
import { goBuildInfoBlob, tempDir } from './testing.ts'

const TEMPORAL_INFO = [
  'path\tgithub.com/temporalio/cli/cmd/temporal',
  'mod\tgithub.com/temporalio/cli\tv1.5.1\th1:0RZMk14BWxz44Xg6ciDQvpfAMffoG3J7/K03ql80teY=',
  'dep\tcel.dev/expr\tv0.23.1\th1:K4KOtPCJQjVggkARsjG9RWXP6O4R73aHeJMa/dmCQQg=',
]

describe('Go build info', () => {
  it('parses the main package and module', () => {
    expect(parseBuildInfoBlob(goBuildInfoBlob('go1.26.8', TEMPORAL_INFO))).toEqual({
      goVersion: 'go1.26.8',
      path: 'github.com/temporalio/cli/cmd/temporal',
      main: { path: 'github.com/temporalio/cli', version: 'v1.5.1' },
    })
  })

  it('finds the 16-byte-aligned header beyond the first read chunk', async () => {
    const dir = await tempDir()
    const file = path.join(dir, 'bin')
    // The reader scans 4 MiB chunks; put the header in the second one.
    const offset = 4 * 1024 * 1024 + 48
    const blob = goBuildInfoBlob('go1.26.8', TEMPORAL_INFO)
    const bytes = Buffer.alloc(offset + blob.length + 100, 0x41)
    // An unaligned decoy must be ignored, as Go's reader does.
    goBuildInfoBlob('go0.0', ['path\tdecoy']).copy(bytes, 1001)
    blob.copy(bytes, offset)
    await writeFile(file, bytes)
    const info = await readGoBuildInfo(file)
    expect(info?.main).toEqual({ path: 'github.com/temporalio/cli', version: 'v1.5.1' })
  })

  it('returns undefined for files that are not Go binaries', async () => {
    const dir = await tempDir()
    const file = path.join(dir, 'script')
    await writeFile(file, '#!/bin/sh\necho hi\n')
    expect(await readGoBuildInfo(file)).toBeUndefined()
  })
})
