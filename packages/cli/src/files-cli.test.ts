// `stampede run` and `stampede tests push` with a script's files and with --archive, against a
// stand-in API (tRPC's plain-JSON HTTP protocol and POST /files on a local port): what they
// collect, upload (only what the project lacks), print and send.
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from './test-cli.ts'
import { standInApi, type StandInApi } from './test-api.ts'

const TEST_ID = '00000000-0000-4000-8000-000000000001'
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex')

let calls: StandInApi['calls'] = []
/** The blobs the stand-in project holds. */
let stored = new Set<string>()
let savedTests: { id: string; name: string; files?: unknown[] }[] = []
let api: StandInApi
let url: string
let dir: string

const answers: Record<string, (input: Record<string, unknown>) => unknown> = {
  'scripts.validate': () => ({ ok: true, errors: [], warnings: [], requirements: null }),
  'runs.start': (input) => ({ id: '00000000-0000-4000-8000-0000000000aa', status: 'queued', location: input.location, rawSamples: false }),
  'tests.list': () => savedTests,
  'tests.create': (input) => ({ id: TEST_ID, name: input.name }),
  'tests.update': () => ({ id: TEST_ID, name: 'checkout' }),
  'files.missing': (input) => ({ missing: (input.sha256 as string[]).filter((s) => !stored.has(s)) }),
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-cli-files-'))
  api = await standInApi(answers, {
    'POST /files': (req, u, body) => {
      const hash = sha(body)
      api.calls.push({ path: 'POST /files', input: { query: Object.fromEntries(u.searchParams), size: body.byteLength, type: req.headers['content-type'] } })
      stored.add(hash)
      return { sha256: hash, size: body.byteLength }
    },
  })
  url = api.url
  calls = api.calls
})

afterAll(async () => {
  await api?.close()
  await rm(dir, { recursive: true, force: true })
})

beforeEach(() => {
  calls.length = 0
  stored = new Set()
  savedTests = []
})

async function tree(files: Record<string, string | Buffer>) {
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, rel)
    await mkdir(path.dirname(full), { recursive: true })
    await writeFile(full, content)
  }
}

const cli = (...argv: string[]) => runCli(url, dir, argv)
const inputOf = (procedure: string) => calls.filter((c) => c.path === procedure).map((c) => c.input)
const apiCalls = () => calls.map((c) => c.path).filter((p) => p !== 'meta.version')

const SCRIPT = "import { helper } from './lib/helper.js'\nconst users = JSON.parse(open('./data/users.json'))\nexport default function () {}\n"
const USERS = '[{"name":"ada"}]'
const HELPER = 'export const helper = 1\n'

/** A tar file's first header block, with the ustar magic at byte 257. */
function tarFile(): Buffer {
  const b = Buffer.alloc(1024)
  b.write('script.js', 0)
  b.write('ustar\u000000', 257, 'latin1')
  return b
}

describe('stampede run with files', () => {
  it('collects the files, uploads only those the project lacks, prints them and starts with them', async () => {
    await tree({ 'load/checkout.js': SCRIPT, 'load/data/users.json': USERS, 'load/lib/helper.js': HELPER })
    stored.add(sha(HELPER))
    const { code, stderr } = await cli('run', 'load/checkout.js', '--location', 'us-east', '--detach')
    expect(stderr).toContain(`Files: data/users.json (${USERS.length} bytes), lib/helper.js (${HELPER.length} bytes) — 1 uploaded, 1 already stored\n`)
    expect(code).toBe(0)
    const refs = [
      { path: 'data/users.json', sha256: sha(USERS) },
      { path: 'lib/helper.js', sha256: sha(HELPER) },
    ]
    expect(apiCalls()).toEqual(['files.missing', 'POST /files', 'scripts.validate', 'runs.start'])
    expect(inputOf('files.missing')).toEqual([{ sha256: [sha(USERS), sha(HELPER)] }])
    expect(inputOf('POST /files')).toEqual([{ query: { sha256: sha(USERS) }, size: USERS.length, type: 'application/octet-stream' }])
    expect(inputOf('scripts.validate')).toEqual([{ script: SCRIPT, files: refs }])
    expect(inputOf('runs.start')).toEqual([{ location: 'us-east', script: SCRIPT, files: refs }])
  })

  it('validate sends the files too, and names a module\'s finding by the module beside the script', async () => {
    await tree({ 'load/checkout.js': SCRIPT, 'load/data/users.json': USERS, 'load/lib/helper.js': HELPER })
    const answer = answers['scripts.validate']
    answers['scripts.validate'] = () => ({ ok: false, errors: [{ code: 'missing-file', message: 'lib/x.csv is missing', line: 1, column: 23, file: 'lib/helper.js' }], warnings: [], requirements: null })
    try {
      const { code, stderr } = await cli('validate', 'load/checkout.js')
      expect(code).toBe(7)
      expect(stderr).toContain(`load${path.sep}lib${path.sep}helper.js:1:23 error missing-file: lib/x.csv is missing\n`)
      expect(inputOf('scripts.validate')).toEqual([{ script: SCRIPT, files: [{ path: 'data/users.json', sha256: sha(USERS) }, { path: 'lib/helper.js', sha256: sha(HELPER) }] }])
    } finally {
      answers['scripts.validate'] = answer!
    }
  })

  it('refuses a file outside the script\'s folder before calling the API (exit 7), naming where and the fixes', async () => {
    await tree({ 'load/out.js': "const d = open('../secret.json')\nexport default function () {}\n", 'secret.json': '{}' })
    const { code, stderr } = await cli('run', 'load/out.js', '--location', 'us-east', '--detach')
    expect(code).toBe(7)
    expect(stderr).toContain('stampede: load/out.js: a file the script needs cannot be uploaded with it:\n')
    expect(stderr).toContain(`  load${path.sep}out.js:1:16: open("../secret.json") reaches outside the script's folder`)
    expect(stderr).toMatch(/--archive <file\.tar>/)
    expect(apiCalls()).toEqual([])
  })

  it('warns about a computed open() path and runs without it', async () => {
    await tree({ 'dyn.js': 'const d = open(__ENV.DATA)\nexport default function () {}\n' })
    const { code, stderr } = await cli('run', 'dyn.js', '--location', 'us-east', '--detach')
    expect(code).toBe(0)
    expect(stderr).toContain('stampede: warning: dyn.js:1:16: open() is given a computed path')
    expect(stderr).not.toContain('Files:')
    expect(inputOf('runs.start')).toEqual([{ location: 'us-east', script: 'const d = open(__ENV.DATA)\nexport default function () {}\n' }])
  })

  it('with --test, saves the files with the test and starts the test', async () => {
    await tree({ 'load/checkout.js': SCRIPT, 'load/data/users.json': USERS, 'load/lib/helper.js': HELPER })
    expect((await cli('run', 'load/checkout.js', '--location', 'us-east', '--test', 'checkout', '--detach')).code).toBe(0)
    expect(inputOf('tests.create')).toEqual([{ name: 'checkout', script: SCRIPT, files: [{ path: 'data/users.json', sha256: sha(USERS) }, { path: 'lib/helper.js', sha256: sha(HELPER) }] }])
    expect(inputOf('runs.start')).toEqual([{ location: 'us-east', testId: TEST_ID }])
  })
})

describe('--archive', () => {
  it('run uploads the archive (once) and starts it instead of a script', async () => {
    await tree({ 'test.tar': tarFile() })
    const first = await cli('run', '--archive', 'test.tar', '--location', 'us-east', '--detach')
    expect(first.code).toBe(0)
    expect(first.stderr).toContain('Archive: test.tar (1 KB) — uploaded\n')
    expect(apiCalls()).toEqual(['files.missing', 'POST /files', 'runs.start'])
    expect(inputOf('runs.start')).toEqual([{ location: 'us-east', archive: sha(tarFile()) }])
    calls.length = 0
    const again = await cli('run', '--archive', 'test.tar', '--location', 'us-east', '--detach')
    expect(again.stderr).toContain('Archive: test.tar (1 KB) — already stored\n')
    expect(apiCalls()).toEqual(['files.missing', 'runs.start'])
  })

  it('tests push saves the archive as the test', async () => {
    await tree({ 'test.tar': tarFile() })
    savedTests = [{ id: TEST_ID, name: 'checkout', files: [] }]
    expect((await cli('tests', 'push', '--archive', 'test.tar', '--name', 'checkout')).code).toBe(0)
    expect(inputOf('tests.update')).toEqual([{ id: TEST_ID, archive: sha(tarFile()) }])
  })

  it('refuses a script and --archive together, and a file that is not a tar', async () => {
    await tree({ 'a.js': 'export default function () {}\n', 'not.tar': 'hello' })
    const both = await cli('run', 'a.js', '--archive', 'x.tar', '--location', 'us-east')
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('give either a script file or --archive <file.tar>')
    const notTar = await cli('tests', 'push', '--archive', 'not.tar', '--name', 'x')
    expect(notTar.code).toBe(2)
    expect(notTar.stderr).toContain('--archive not.tar: not a tar file; build the archive with k6 archive <script>')
    expect(apiCalls()).toEqual([])
  })
})

describe('stampede tests push with files', () => {
  it('sends the files; for a test that had files, a script without any clears them', async () => {
    await tree({ 'load/checkout.js': SCRIPT, 'load/data/users.json': USERS, 'load/lib/helper.js': HELPER, 'load/plain.js': 'export default function () {}\n' })
    const pushed = await cli('tests', 'push', 'load/checkout.js', '--name', 'checkout')
    expect(pushed.code).toBe(0)
    expect(pushed.stderr).toContain('— 2 uploaded, 0 already stored')
    expect(inputOf('tests.create')).toEqual([{ name: 'checkout', script: SCRIPT, files: [{ path: 'data/users.json', sha256: sha(USERS) }, { path: 'lib/helper.js', sha256: sha(HELPER) }] }])
    savedTests = [{ id: TEST_ID, name: 'checkout', files: [{ path: 'data/users.json' }] }]
    calls.length = 0
    expect((await cli('tests', 'push', 'load/plain.js', '--name', 'checkout')).code).toBe(0)
    expect(inputOf('tests.update')).toEqual([{ id: TEST_ID, script: 'export default function () {}\n', files: [] }])
    expect(apiCalls()).toEqual(['tests.list', 'tests.update'])
  })
})

describe('help', () => {
  it('explains files and --archive', async () => {
    const { stdout } = await cli('--help')
    expect(stdout).toContain('stampede run (<script.js|.ts> | --archive <file.tar>)')
    expect(stdout).toContain('stampede tests push (<script> | --archive <file.tar>)')
    expect(stdout).toMatch(/Files: run and tests push upload the files the script needs/)
  })
})
