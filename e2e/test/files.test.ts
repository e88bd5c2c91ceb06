// Tests with files end to end, on the real stack (API, Temporal, S3, runner, k6 in its sandbox):
// data files read with open() into a SharedArray (JSON and CSV), a module tree two folders deep,
// a binary file uploaded by k6, and the same test as a k6 archive (made by the real `k6 archive`);
// names that would escape and archives that break the rules or the caps refused with a clear 4xx;
// and a run that keeps, shows and re-runs the files it ran after its test's files changed.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { pack } from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveTool } from '@stampede/tools'
import { tokenClient } from '../src/clients.ts'
import { startStack, type Stack } from '../src/stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { runFinished } from '../src/wait.ts'

let stack: Stack
let target: Target
let tmp: string

beforeAll(async () => {
  target = await startTarget()
  tmp = await mkdtemp(path.join(os.tmpdir(), 'stampede-files-e2e-'))
  // Small caps, so the caps are reachable with small files.
  stack = await startStack({ api: { FILES_MAX_FILE_MB: '0.25', FILES_MAX_TOTAL_MB: '1', FILES_MAX_COUNT: '20' } })
}, 120_000)
afterAll(async () => {
  await stack?.stop()
  await target?.stop()
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** POST /files as a client does: the raw bytes, the project and the bytes' SHA-256. */
async function upload(bytes: Uint8Array, opts: { token?: string | null; sha256?: string; projectId?: string } = {}) {
  const query = new URLSearchParams({ projectId: opts.projectId ?? stack.projectId, sha256: opts.sha256 ?? sha256(bytes) })
  const token = opts.token === undefined ? stack.token : opts.token
  const res = await fetch(`${stack.apiUrl}/files?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: bytes,
  })
  return { status: res.status, body: (await res.json()) as { sha256?: string; size?: number; error?: { message: string; code?: string } } }
}

/** Uploads files and answers the { path, sha256 } list tests and runs take. */
async function uploadAll(files: Record<string, string | Uint8Array>) {
  const refs = []
  for (const [p, content] of Object.entries(files)) {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content
    const { status, body } = await upload(bytes)
    expect(status, JSON.stringify(body)).toBe(200)
    refs.push({ path: p, sha256: body.sha256! })
  }
  return refs
}

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { data?: { code?: string } }) => e)

// A test as k6's own examples write one: users from JSON and CSV into SharedArrays, helpers in a
// module tree two folders deep (which opens a file relative to itself), a binary file posted as
// multipart, thresholds on the checks.
const USERS_JSON = JSON.stringify([{ name: 'ada' }, { name: 'grace' }, { name: 'linus' }])
const USERS_CSV = 'name,path\nada,/users/ada\ngrace,/users/grace\n'
const LOGO = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3, 255])
const HELPER = `import { headers } from '../shared/headers.js'
export const tag = open('./tag.txt').trim()
export const get = (http, url) => http.get(url, { headers, tags: { name: tag } })
`
const HEADERS = `export const headers = { 'x-from-module': 'two-deep' }\n`
const script = (base: string) => `import http from 'k6/http'
import { check } from 'k6'
import { SharedArray } from 'k6/data'
import { get } from './lib/http/helper.js'
const users = new SharedArray('users', () => JSON.parse(open('./data/users.json')))
const rows = new SharedArray('rows', () => open('./data/users.csv').trim().split('\\n').slice(1).map((l) => l.split(',')))
const logo = open('./assets/logo.png', 'b')
export const options = { iterations: 6, vus: 2, thresholds: { checks: ['rate==1'] } }
export default function () {
  const user = users[__ITER % users.length]
  const row = rows[__ITER % rows.length]
  check(get(http, '${base}' + row[1] + '?who=' + user.name), { 'module request ok': (r) => r.status === 200 })
  check(http.post('${base}/upload', { file: http.file(logo, 'logo.png') }), { 'upload ok': (r) => r.status === 200 && logo.byteLength === 13 })
}
`
const FILES = {
  'data/users.json': USERS_JSON,
  'data/users.csv': USERS_CSV,
  'assets/logo.png': LOGO,
  'lib/http/helper.js': HELPER,
  'lib/http/tag.txt': 'from-module\n',
  'lib/shared/headers.js': HEADERS,
}

describe('a test with files', () => {
  it('validates, saves and runs a script with JSON and CSV data, a binary file and a module tree two folders deep', async () => {
    target.reset()
    const files = await uploadAll(FILES)
    const test = await stack.api.tests.create.mutate({ name: 'with files', script: script(target.url), files })
    expect(test.files.map((f) => f.path)).toEqual(['assets/logo.png', 'data/users.csv', 'data/users.json', 'lib/http/helper.js', 'lib/http/tag.txt', 'lib/shared/headers.js'])
    expect(test.files.find((f) => f.path === 'assets/logo.png')).toEqual({ path: 'assets/logo.png', sha256: sha256(LOGO), size: LOGO.length })
    expect(test.archive).toBeNull()

    const run = await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east' })
    const done = await runFinished(stack.api, run.id)
    expect(done.status, done.errorMessage ?? '').toBe('passed')
    expect(done.metrics.checksPassed).toBe(12)
    expect(target.countOf('/users/ada') + target.countOf('/users/grace')).toBe(6)
    expect(target.countOf('/upload')).toBe(6)
    const viaModule = target.headers.filter((h) => h['x-from-module'] === 'two-deep')
    expect(viaModule).toHaveLength(6)
    expect((await stack.api.runs.files.query({ runId: run.id })).files).toEqual(test.files)
  })

  it('runs an unsaved script with files, and scripts.validate checks the files it is given', async () => {
    const files = await uploadAll({ 'data/users.json': USERS_JSON })
    const source = `import http from 'k6/http'\nconst users = JSON.parse(open('./data/users.json'))\nexport const options = { iterations: 1 }\nexport default function () { http.get('${target.url}/unsaved/' + users.length) }\n`
    expect((await stack.api.scripts.validate.mutate({ script: source, files })).ok).toBe(true)
    target.reset()
    const run = await stack.api.runs.start.mutate({ script: source, files, location: 'us-east' })
    expect((await runFinished(stack.api, run.id)).status).toBe('passed')
    expect(target.countOf('/unsaved/3')).toBe(1)
  })

  it('names a missing file at the open() or import that needs it, with no host path', async () => {
    const source = `import http from 'k6/http'\nimport { x } from './lib/x.js'\nconst users = JSON.parse(open('./users.json'))\nexport default function () { http.get('${target.url}') }\n`
    const result = await stack.api.scripts.validate.mutate({ script: source })
    expect(result.ok).toBe(false)
    expect(result.errors.map((e) => `${e.line}:${e.column} ${e.code}`)).toEqual(['2:19 missing-file', '3:31 missing-file'])
    expect(result.errors[1]!.message).toContain('users.json, which the test does not have. Add users.json')
    expect(JSON.stringify(result)).not.toMatch(/\/tmp\/|stampede-inspect|\/work\//)

    // A module's own missing file is named in that module.
    const files = await uploadAll({ 'lib/x.js': `export const x = open('./missing.csv')\n` })
    const inModule = await stack.api.scripts.validate.mutate({ script: source.replace("open('./users.json')", "'[]'"), files })
    expect(inModule.errors).toEqual([expect.objectContaining({ code: 'missing-file', file: 'lib/x.js', line: 1, column: 23 })])
    const refused = await errorOf(stack.api.runs.start.mutate({ script: source.replace("open('./users.json')", "'[]'"), files, location: 'us-east' }))
    expect(refused?.message).toContain('lib/x.js:1:23 missing-file')
  })
})

describe('k6 archives', () => {
  let archive: Buffer

  beforeAll(async () => {
    const dir = path.join(tmp, 'archive-src')
    for (const [p, content] of Object.entries(FILES)) {
      await mkdir(path.dirname(path.join(dir, p)), { recursive: true })
      await writeFile(path.join(dir, p), content)
    }
    await writeFile(path.join(dir, 'checkout.js'), script(target.url))
    await promisify(execFile)((await resolveTool('k6')).path, ['archive', '--quiet', '-O', path.join(tmp, 'checkout.tar'), 'checkout.js'], { cwd: dir, env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } })
    archive = await readFile(path.join(tmp, 'checkout.tar'))
  })

  it('saves a k6 archive as a test, shows its entry script, and runs it as an archive', async () => {
    target.reset()
    const { body } = await upload(archive)
    const test = await stack.api.tests.create.mutate({ name: 'from an archive', archive: body.sha256! })
    expect(test.archive).toEqual({ sha256: sha256(archive), size: archive.length })
    expect(test.script).toBe(script(target.url))
    expect(test.files).toEqual([])
    const run = await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east' })
    const done = await runFinished(stack.api, run.id)
    expect(done.status, done.errorMessage ?? '').toBe('passed')
    expect(done.metrics.checksPassed).toBe(12)
    expect(target.headers.filter((h) => h['x-from-module'] === 'two-deep')).toHaveLength(6)
    expect(await stack.api.runs.files.query({ runId: run.id })).toEqual({ files: [], archive: { sha256: sha256(archive), size: archive.length } })
  })

  it('refuses archives with links, escaping or hidden names, past the caps, or not k6 archives, with a 4xx naming the problem', async () => {
    const tar = async (entries: { name: string; type?: 'file' | 'symlink' | 'link'; body?: string | Buffer; linkname?: string }[]) => {
      const p = pack()
      const chunks: Buffer[] = []
      p.on('data', (c: unknown) => void chunks.push(c as Buffer))
      const ended = new Promise<void>((resolve) => p.on('end', () => resolve()))
      for (const e of entries) p.entry({ name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}) }, e.body ?? '')
      p.finalize()
      await ended
      return Buffer.concat(chunks)
    }
    const metadata = JSON.stringify({ filename: 'file:///home/u/t/script.js', pwd: 'file:///home/u/t/', options: {}, env: {}, k6version: 'v2.2.0' })
    const base = [{ name: 'metadata.json', body: metadata }, { name: 'data', body: 'export default function () {}\n' }]
    const cases: [string, Buffer, RegExp][] = [
      ['a symlink', await tar([...base, { name: 'file/home/u/t/evil.json', type: 'symlink', linkname: '/etc/passwd' }]), /link|symbolic/i],
      ['a hard link to a host file', await tar([...base, { name: 'file/home/u/t/h.json', type: 'link', linkname: '/etc/shadow' }]), /link/i],
      ['a climbing name', await tar([...base, { name: 'file/home/u/t/../../../../etc/cron.d/x', body: 'x' }]), /\.\./],
      ['a control character', await tar([...base, { name: 'file/home/u/t/a\u0007b.json', body: 'x' }]), /U\+0007|control/],
      ['a file over the cap', await tar([...base, { name: 'file/home/u/t/big.bin', body: Buffer.alloc(300 * 1024) }]), /at most|limit|cap/i],
      ['not a tar', Buffer.from('just some text, not an archive at all'), /tar|archive/i],
    ]
    for (const [what, bytes, message] of cases) {
      const { status, body } = await upload(bytes)
      expect(status, what).toBe(200)
      const err = await errorOf(stack.api.tests.create.mutate({ name: what, archive: body.sha256! }))
      expect(err?.data?.code, what).toBe('BAD_REQUEST')
      expect(err?.message, what).toMatch(/^archive: /)
      expect(err?.message, what).toMatch(message)
    }
  })
})

describe('file names and uploads', () => {
  it('refuses names that escape, are absolute or hide characters, and sets past the caps, before storing anything', async () => {
    const small = (await uploadAll({ 'x.txt': 'x' }))[0]!.sha256
    const base = `export default function () {}\n`
    const cases: [string, RegExp][] = [
      ['../x.txt', /climbs out of the test's folder/],
      ['/etc/passwd', /is absolute/],
      ['data\\x.txt', /backslash/],
      ['a\u202eb.txt', /U\+202E/],
      ['a//b.txt', /empty folder name/],
      ['script.js', /the test's own script/],
    ]
    for (const [name, message] of cases) {
      const err = await errorOf(stack.api.tests.create.mutate({ name: 'bad name', script: base, files: [{ path: name, sha256: small }] }))
      expect(err?.data?.code, name).toBe('BAD_REQUEST')
      expect(err?.message, name).toMatch(message)
    }
    const many = Array.from({ length: 21 }, (_, i) => ({ path: `f${i}.txt`, sha256: small }))
    expect((await errorOf(stack.api.tests.create.mutate({ name: 'many', script: base, files: many })))?.message).toContain('the limit is 20')
    const unknown = await errorOf(stack.api.tests.create.mutate({ name: 'unknown', script: base, files: [{ path: 'u.txt', sha256: 'a'.repeat(64) }] }))
    expect(unknown?.message).toMatch(/u\.txt .* was not uploaded to this project; upload it first/)
    expect((await stack.api.tests.list.query()).filter((t) => ['bad name', 'many', 'unknown'].includes(t.name))).toEqual([])
  })

  it('checks the caller before reading an upload, and refuses a damaged or oversized one', async () => {
    const bytes = Buffer.from('hello')
    expect((await upload(bytes, { token: null })).status).toBe(401)
    const reader = (await stack.api.tokens.create.mutate({ name: 'reader', scope: 'read' })).token
    const asReader = await upload(bytes, { token: reader })
    expect(asReader.status).toBe(403)
    const damaged = await upload(bytes, { sha256: 'b'.repeat(64) })
    expect(damaged.status).toBe(400)
    expect(damaged.body.error?.message).toMatch(/the bytes changed on the way/)
    for (const [query, field] of [['projectId=not-a-uuid', 'projectId'], [`projectId=${stack.projectId}&sha256=ZZZ`, 'sha256'], [`projectId=${stack.projectId}&path=../x`, 'query']] as const) {
      const res = await fetch(`${stack.apiUrl}/files?${query}`, { method: 'POST', headers: { authorization: `Bearer ${stack.token}` }, body: bytes })
      expect(res.status, query).toBe(400)
      expect(((await res.json()) as { error: { message: string } }).error.message, query).toMatch(new RegExp(`^${field}: `))
    }
    const big = await upload(Buffer.alloc(1024 * 1024 + 1))
    expect(big.status).toBe(413)
    expect(big.body.error?.message).toMatch(/1 MB a test's files may add up to \(FILES_MAX_TOTAL_MB\)/)
    // A viewer may read a stored file back; an upload twice is one blob.
    const stored = await upload(bytes)
    expect(await upload(bytes)).toEqual(stored)
    const read = await tokenClient(stack.apiUrl, reader).files.read.query({ sha256: stored.body.sha256! })
    expect(Buffer.from(read.content, 'base64').toString()).toBe('hello')
    expect((await stack.api.files.missing.mutate({ sha256: [stored.body.sha256!, 'c'.repeat(64)] })).missing).toEqual(['c'.repeat(64)])
  })
})

describe('a run keeps the files it ran', () => {
  it("shows and re-runs its own files after the test's files changed", async () => {
    const source = `import http from 'k6/http'\nconst p = open('./path.txt').trim()\nexport const options = { iterations: 1 }\nexport default function () { http.get('${target.url}' + p) }\n`
    const test = await stack.api.tests.create.mutate({ name: 'changing files', script: source, files: await uploadAll({ 'path.txt': '/v1\n' }) })
    target.reset()
    const first = await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east' })
    expect((await runFinished(stack.api, first.id)).status).toBe('passed')
    const v1 = (await stack.api.runs.files.query({ runId: first.id })).files

    await stack.api.tests.update.mutate({ id: test.id, files: await uploadAll({ 'path.txt': '/v2\n' }) })
    const second = await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east' })
    expect((await runFinished(stack.api, second.id)).status).toBe('passed')

    expect((await stack.api.runs.files.query({ runId: first.id })).files).toEqual(v1)
    const again = await stack.api.runs.rerun.mutate({ id: first.id })
    expect((await runFinished(stack.api, again.id)).status).toBe('passed')
    expect((await stack.api.runs.files.query({ runId: again.id })).files).toEqual(v1)
    expect(target.countOf('/v1')).toBe(2)
    expect(target.countOf('/v2')).toBe(1)
  })
})
