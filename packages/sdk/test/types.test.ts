// Type-level contract: the SDK's types are inferred from the API's AppRouter. A fixture that uses
// run fields compiles against the real router; the same fixture compiled against a router that
// dropped `durationMs` (test/types/changed-api.ts, mapped in with tsconfig `paths`) must fail on
// exactly that field. So an API change that removes a field breaks SDK users at compile time.
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { typeCheck } from './tsc.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

async function compile(paths: Record<string, string[]> = {}): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-sdk-types-'))
  dirs.push(dir)
  return typeCheck(dir, [path.join(here, 'types/uses-api.ts')], paths)
}

describe('SDK types follow the API router', () => {
  it('compiles a client that uses run fields, with @ts-expect-error on fields the API does not have', async () => {
    const result = await compile()
    expect(result.output).toBe('')
    expect(result.code).toBe(0)
  }, 120_000)

  it('stops compiling when the router drops a field the client uses', async () => {
    const result = await compile({ '@stampede/api': [path.join(here, 'types/changed-api.ts')] })
    expect(result.code).not.toBe(0)
    const errors = result.output.split('\n').filter((l) => l.includes('error TS'))
    // The only error: the line reading durationMs, in the user's code.
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/uses-api\.ts\(\d+,\d+\): error TS2339: Property 'durationMs' does not exist/)
  }, 120_000)
})
