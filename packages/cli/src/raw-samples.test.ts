// The CLI's --raw-samples / --no-raw-samples against a stand-in API (tRPC's plain-JSON HTTP
// protocol on a local port): what `run` and `tests push` send, and the help saying what it costs.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { runCli } from './test-cli.ts'
import { standInApi, type StandInApi } from './test-api.ts'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

const TEST_ID = '00000000-0000-4000-8000-000000000001'

/** Each call the stand-in API got: the procedure and its input. */
let calls: StandInApi['calls'] = []
/** The saved tests tests.list answers. */
let savedTests: { id: string; name: string }[] = []
let api: StandInApi
let url: string
let dir: string

const run = (input: Record<string, unknown>) => ({ id: '00000000-0000-4000-8000-0000000000aa', status: 'queued', location: input.location, rawSamples: input.rawSamples ?? false })
const test = (input: Record<string, unknown>) => ({ id: TEST_ID, name: input.name ?? 'checkout', rawSamples: input.rawSamples ?? false })

const answers: Record<string, (input: Record<string, unknown>) => unknown> = {
  'scripts.validate': () => ({ ok: true, errors: [], warnings: [], requirements: null }),
  'runs.start': run,
  'tests.list': () => savedTests,
  'tests.create': test,
  'tests.update': test,
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-cli-'))
  await writeFile(path.join(dir, 'load.js'), 'export default function () {}\n')
  api = await standInApi(answers)
  url = api.url
  calls = api.calls
})

afterAll(async () => {
  await api?.close()
  await rm(dir, { recursive: true, force: true })
})

beforeEach(() => {
  calls.length = 0
  savedTests = []
})

const cli = (...argv: string[]) => runCli(url, dir, argv)

const inputOf = (procedure: string) => calls.filter((c) => c.path === procedure).map((c) => c.input)

describe('stampede run --raw-samples', () => {
  it('asks for raw samples for the run, or leaves it to the API (off for an unsaved script) without the option', async () => {
    expect((await cli('run', 'load.js', '--location', 'us-east', '--raw-samples', '--detach')).code).toBe(0)
    expect(inputOf('runs.start')).toEqual([{ location: 'us-east', script: 'export default function () {}\n', rawSamples: true }])
    calls.length = 0
    expect((await cli('run', 'load.js', '--location', 'us-east', '--detach')).code).toBe(0)
    expect(inputOf('runs.start')).toEqual([{ location: 'us-east', script: 'export default function () {}\n' }])
    calls.length = 0
    expect((await cli('run', 'load.js', '--location', 'us-east', '--no-raw-samples', '--detach')).code).toBe(0)
    expect(inputOf('runs.start')).toEqual([{ location: 'us-east', script: 'export default function () {}\n', rawSamples: false }])
  })

  it('with --test, sets the run\'s option only: the saved test\'s own setting is left as it is', async () => {
    savedTests = [{ id: TEST_ID, name: 'checkout' }]
    expect((await cli('run', 'load.js', '--location', 'us-east', '--test', 'checkout', '--raw-samples', '--detach')).code).toBe(0)
    expect(inputOf('tests.update')).toEqual([{ id: TEST_ID, script: 'export default function () {}\n' }])
    expect(inputOf('runs.start')).toEqual([{ location: 'us-east', testId: TEST_ID, rawSamples: true }])
  })

  it('refuses both options at once as bad usage, before calling the API', async () => {
    const { code, stderr } = await cli('run', 'load.js', '--location', 'us-east', '--raw-samples', '--no-raw-samples')
    expect(code).toBe(2)
    expect(stderr).toContain('--raw-samples and --no-raw-samples contradict each other')
    expect(calls).toEqual([])
  })
})

describe('stampede tests push --raw-samples', () => {
  it('saves the setting with a new test, and changes an existing one\'s only when an option is given', async () => {
    expect((await cli('tests', 'push', 'load.js', '--name', 'checkout', '--raw-samples')).code).toBe(0)
    expect(inputOf('tests.create')).toEqual([{ name: 'checkout', script: 'export default function () {}\n', rawSamples: true }])
    savedTests = [{ id: TEST_ID, name: 'checkout' }]
    calls.length = 0
    await cli('tests', 'push', 'load.js', '--name', 'checkout')
    await cli('tests', 'push', 'load.js', '--name', 'checkout', '--no-raw-samples')
    expect(inputOf('tests.update')).toEqual([
      { id: TEST_ID, script: 'export default function () {}\n' },
      { id: TEST_ID, script: 'export default function () {}\n', rawSamples: false },
    ])
  })
})

describe('help', () => {
  it('names the options and what raw samples cost', async () => {
    const { stdout } = await cli('--help')
    expect(stdout).toContain('[--raw-samples | --no-raw-samples]')
    expect(stdout).toMatch(/--raw-samples keeps k6's per-sample JSON stream/)
    expect(stdout).toMatch(/~40 % fewer requests per second/)
  })
})
