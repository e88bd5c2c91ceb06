// collectTestFiles on real folder trees in a temp folder: what it follows, what it collects, and
// the errors and warnings for what cannot be uploaded with the script.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CollectError, collectTestFiles } from './collect.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-collect-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Writes the files of a tree under dir: relative path -> text (or bytes). */
async function tree(files: Record<string, string | Uint8Array>) {
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, rel)
    await mkdir(path.dirname(full), { recursive: true })
    await writeFile(full, content)
  }
}

const collect = (entry: string) => collectTestFiles(entry, { cwd: dir })
const paths = (r: { files: { path: string }[] }) => r.files.map((f) => f.path)
const problemsOf = async (entry: string): Promise<string[]> => {
  const err = await collect(entry).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(CollectError)
  return (err as CollectError).problems
}

describe('collectTestFiles', () => {
  it('follows local imports of every form through modules and collects literal open() paths', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255])
    await tree({
      'load/checkout.js': [
        "import http from 'k6/http'",
        "import { chunk } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js'",
        "import { helper } from './lib/helper.js'",
        "export * from './lib/reexported.js'",
        "const users = JSON.parse(open('./data/users.json'))",
        "const logo = open('img/logo.png', 'b')",
        'export default async function () {',
        "  await import('./lib/lazy.js')",
        "  require('./lib/required.js')",
        '}',
      ].join('\n'),
      'load/lib/helper.js': "import { t } from './types.ts'\nexport const helper = open('../data/helper.csv')\n",
      'load/lib/types.ts': 'export const t: number = 1\n',
      'load/lib/reexported.js': 'export const r = 1\n',
      'load/lib/lazy.js': "import { helper } from './helper.js'\nexport const lazy = helper\n",
      'load/lib/required.js': 'module.exports = {}\n',
      'load/data/users.json': '[{"name":"a"}]',
      'load/data/helper.csv': 'a,b\n1,2\n',
      'load/img/logo.png': png,
      'load/unused.json': '{}',
    })
    const r = await collect('load/checkout.js')
    expect(r.entry.name).toBe('checkout.js')
    expect(r.entry.source).toMatch(/^import http/)
    expect(paths(r)).toEqual(['data/helper.csv', 'data/users.json', 'img/logo.png', 'lib/helper.js', 'lib/lazy.js', 'lib/reexported.js', 'lib/required.js', 'lib/types.ts'])
    expect(r.files.find((f) => f.path === 'img/logo.png')!.content.equals(Buffer.from(png))).toBe(true)
    expect(r.warnings).toEqual([])
  })

  it('does not parse data files, and parses each module once even when imports form a cycle', async () => {
    await tree({
      's.js': "import './a.js'\nconst d = open('./weird.js.txt')\nexport default function () {}\n",
      'a.js': "import './b.js'\nexport const a = 1\n",
      'b.js': "import './a.js'\nexport const b = 2\n",
      'weird.js.txt': 'this is { not javascript',
    })
    const r = await collect('s.js')
    expect(paths(r)).toEqual(['a.js', 'b.js', 'weird.js.txt'])
  })

  it('refuses a reference that climbs out of the script\'s folder, naming file:line:column and the fixes', async () => {
    await tree({
      'load/checkout.js': "import { x } from '../shared/util.js'\nexport default function () {}\n",
      'shared/util.js': 'export const x = 1\n',
    })
    const [problem, ...rest] = await problemsOf('load/checkout.js')
    expect(rest).toEqual([])
    expect(problem).toContain(`load${path.sep}checkout.js:1:19: import "../shared/util.js" reaches outside the script's folder load${path.sep}`)
    expect(problem).toMatch(/Move the file under load.*--archive/)
  })

  it('refuses a missing file and an open() of a file a module climbs out to, listing every problem', async () => {
    await tree({
      'load/t.js': "import './lib/a.js'\nconst u = open('./data/nope.json')\nexport default function () {}\n",
      'load/lib/a.js': "const x = open('../../secret.txt')\nimport './b'\n",
      'load/lib/b.js': '',
    })
    const problems = await problemsOf('load/t.js')
    expect(problems).toHaveLength(3)
    expect(problems[0]).toMatch(/^load.t\.js:2:16: open\("\.\/data\/nope\.json"\) names load.data.nope\.json, which does not exist/)
    expect(problems[1]).toMatch(/^load.lib.a\.js:1:16: open\("\.\.\/\.\.\/secret\.txt"\) reaches outside the script's folder/)
    // k6 adds no extension: './b' is not './b.js'.
    expect(problems[2]).toMatch(/^load.lib.a\.js:2:8: import "\.\/b" names load.lib.b, which does not exist.*no extension is added/)
  })

  it('refuses a symlink that leads outside the folder, and follows one that stays inside', async () => {
    await tree({
      'outside/secret.txt': 'secret',
      'load/t.js': "const a = open('./link.txt')\nconst b = open('./inner.txt')\nexport default function () {}\n",
      'load/real.txt': 'real',
    })
    await symlink(path.join(dir, 'outside/secret.txt'), path.join(dir, 'load/link.txt'))
    await symlink('real.txt', path.join(dir, 'load/inner.txt'))
    const problems = await problemsOf('load/t.js')
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^load.t\.js:1:16: open\("\.\/link\.txt"\) names load.link\.txt, a symlink to .*outside.secret\.txt outside the script's folder.*--archive/)
    await rm(path.join(dir, 'load/link.txt'))
    await writeFile(path.join(dir, 'load/t.js'), "const b = open('./inner.txt')\nexport default function () {}\n")
    const r = await collect('load/t.js')
    expect(r.files).toEqual([{ path: 'inner.txt', content: Buffer.from('real') }])
  })

  it('refuses absolute paths, URLs in open(), folders and names the platform refuses', async () => {
    await tree({
      't.js': [
        "const a = open('/etc/hostname')",
        "const b = open('https://example.com/x.json')",
        "const c = open('./data')",
        "const d = open('./we\u202eird.txt')",
        "import 'file:///tmp/x.js'",
        'export default function () {}',
      ].join('\n'),
      'data/x.json': '{}',
    })
    const problems = await problemsOf('t.js')
    expect(problems).toHaveLength(5)
    expect(problems[0]).toMatch(/^t\.js:1:16: open\("\/etc\/hostname"\) is an absolute path/)
    expect(problems[1]).toMatch(/^t\.js:2:16: .* is a URL/)
    expect(problems[0]).toContain(`Move the file under .${path.sep} and`)
    expect(problems[2]).toMatch(/^t\.js:3:16: .* names the folder data; name a file/)
    expect(problems[3]).toMatch(/^t\.js:4:16: .*U\+202E/)
    expect(problems[4]).toMatch(/^t\.js:5:8: import "file:\/\/\/tmp\/x\.js" is an absolute path/)
  })

  it('warns about computed open() and import paths, naming where, and collects the rest', async () => {
    await tree({
      't.js': "const name = __ENV.DATA\nconst a = open(name)\nconst b = open('./ok.txt')\nexport default async function () { await import(`./m-${__VU}.js`) }\n",
      'ok.txt': 'ok',
    })
    const r = await collect('t.js')
    expect(paths(r)).toEqual(['ok.txt'])
    expect(r.warnings).toHaveLength(2)
    expect(r.warnings[0]).toMatch(/^t\.js:2:16: open\(\) is given a computed path.*open\("\.\/data\/users\.json"\)/)
    expect(r.warnings[1]).toMatch(/^t\.js:4:49: import\(\) is given a computed module name/)
  })

  it('uploads a module that does not parse as it is (validation names the syntax error), and refuses an entry that cannot be read', async () => {
    await tree({ 't.js': "import './bad.js'\nexport default function () {}\n", 'bad.js': "import './never-followed.js'\nexport const = 1\n" })
    expect((await collectTestFiles('t.js', { cwd: dir })).files.map((f) => f.path)).toEqual(['bad.js'])
    await tree({ 'broken.js': 'export default function ( {\n' })
    expect(await collectTestFiles('broken.js', { cwd: dir })).toMatchObject({ entry: { name: 'broken.js' }, files: [] })
    const [missing] = await problemsOf('nope.js')
    expect(missing).toMatch(/^nope\.js: cannot read the script \(ENOENT\)/)
  })

  it('checks the set against the caps', async () => {
    await tree({ 't.js': "open('./a.txt'); open('./b.txt')\nexport default function () {}\n", 'a.txt': 'aaaa', 'b.txt': 'bbbb' })
    const err = await collectTestFiles('t.js', { cwd: dir, caps: { maxFileBytes: 3, maxTotalBytes: 100, maxFiles: 1 } }).catch((e: unknown) => e)
    expect((err as CollectError).problems).toEqual([
      'The test has 2 files; the limit is 1. Remove files it does not read, or pack data into fewer files. (the files of t.js)',
      'a.txt is 4 bytes; a file may be at most 3 bytes.',
      'b.txt is 4 bytes; a file may be at most 3 bytes.',
    ])
  })

  it('takes an absolute entry path and names files relative to cwd', async () => {
    await tree({ 'x/t.ts': "import { h } from './h.ts'\nconst n: number = 1\nexport default function () {}\n", 'x/h.ts': 'export const h: string = "h"\n' })
    const r = await collectTestFiles(path.join(dir, 'x/t.ts'), { cwd: dir })
    expect(r.entry.name).toBe('t.ts')
    expect(paths(r)).toEqual(['h.ts'])
  })
})
