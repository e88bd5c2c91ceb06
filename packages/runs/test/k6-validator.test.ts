// k6Validator with the real k6 in the real sandbox: the same checks runs.start applies (static
// checks, k6's own load of the script with the run's variables, the caps), for the orchestration
// worker's scheduled runs.
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { K6Sandbox, MiB } from '@stampede/sandbox'
import { resolveTool } from '@stampede/tools'
import { k6Validator, SECRET_STAND_IN, type RunValidator } from '../src/index.ts'

let root: string
let validate: RunValidator
const CAPS = { maxVUs: 2, maxDurationSeconds: 60, owner: 'project' as const }

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'stampede-runs-test-'))
  await chmod(root, 0o711)
  const sandbox = await K6Sandbox.create({ mode: 'bubblewrap', k6BinPath: (await resolveTool('k6')).path, root: path.join(root, 'work'), log: () => {} })
  validate = k6Validator({ sandbox, limits: { memoryBytes: 512 * MiB, cpuSeconds: 10, threads: 256, fileBytes: 64 * MiB }, timeoutMs: 15_000, concurrency: 1 })
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('k6Validator', () => {
  it('passes a script within the caps, with what k6 says it needs', async () => {
    const result = await validate({ script: 'export const options = { vus: 2, duration: "10s" }\nexport default function () {}', env: {}, caps: CAPS })
    expect(result).toMatchObject({ ok: true, errors: [], requirements: { maxVUs: 2 } })
    expect(result.requirements!.totalDurationSeconds).toBeGreaterThanOrEqual(10)
  })

  it('refuses a script over the project\'s caps, computed from the run\'s variables', async () => {
    const script = 'export const options = { vus: Number(__ENV.VUS), duration: "10s" }\nexport default function () {}'
    const result = await validate({ script, env: { VUS: '5' }, caps: CAPS })
    expect(result).toMatchObject({ ok: false, requirements: { maxVUs: 5 } })
    expect(result.errors).toEqual([
      { code: 'too-many-vus', message: 'The script needs up to 5 VUs; this project allows at most 2. Lower vus, stage targets or maxVUs to 2 or fewer.', line: 1, column: 1 },
    ])
  })

  it('refuses what k6 cannot load, in k6\'s words, and sees secrets only as stand-ins', async () => {
    const script = `if (__ENV.TOKEN !== '${SECRET_STAND_IN}') throw new Error('unexpected token value')\nnope()\nexport default function () {}`
    const result = await validate({ script, env: { TOKEN: SECRET_STAND_IN }, caps: CAPS })
    expect(result.ok).toBe(false)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatchObject({ code: 'engine-error', line: 2 })
    expect(result.errors[0]!.message).toMatch(/^k6 could not load the script: ReferenceError: nope is not defined/)
  })

  it('refuses a static error without starting k6', async () => {
    const result = await validate({ script: 'export default function () {', env: {}, caps: CAPS })
    expect(result).toMatchObject({ ok: false, requirements: null })
    expect(result.errors[0]!.code).not.toBe('engine-error')
  })
})
