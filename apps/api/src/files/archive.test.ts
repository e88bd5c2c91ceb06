// The k6 archive reader against real archives written by Stampede's k6 at test time, and against
// hostile tars crafted here (with tar-stream's pack, then edited byte by byte where pack refuses).
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { pack as tarPack } from 'tar-stream'
import type { Header } from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveTool } from '@stampede/tools'
import type { FileCaps } from '@stampede/shared/files'
import { readK6Archive } from './archive.ts'
import type { ArchiveCheck, K6ArchiveSummary } from './archive.ts'

const run = promisify(execFile)
const CAPS: FileCaps = { maxFileBytes: 64 * 1024, maxTotalBytes: 256 * 1024, maxFiles: 20 }

let k6: string
const dirs: string[] = []

beforeAll(async () => {
  k6 = (await resolveTool('k6')).path
}, 20 * 60_000)

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

/** Writes `files` into a fresh folder (`proj/` is the script's folder) and runs `k6 archive`. */
async function k6Archive(files: Record<string, string>, entry: string, args: string[] = []): Promise<{ bytes: Uint8Array; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-archive-'))
  dirs.push(dir)
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name)
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, content)
  }
  const out = path.join(dir, 'out.tar')
  await run(k6, ['archive', ...args, '-O', out, entry], {
    cwd: path.join(dir, 'proj'),
    env: { PATH: process.env.PATH ?? '', HOME: dir, K6_NO_USAGE_REPORT: 'true' },
  })
  return { bytes: new Uint8Array(await readFile(out)), dir }
}

interface Entry {
  header: Partial<Header> & { name: string }
  content?: string | Uint8Array
}

async function craft(entries: Entry[]): Promise<Uint8Array> {
  const p = tarPack()
  const chunks: Buffer[] = []
  p.on('data', (c: unknown) => void chunks.push(c as Buffer))
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve)
    p.on('error', reject)
  })
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (e.content !== undefined) p.entry(e.header, e.content, cb)
      else p.entry(e.header, cb)
    })
  }
  p.finalize()
  await done
  return new Uint8Array(Buffer.concat(chunks))
}

const SCRIPT = "import http from 'k6/http'\nexport default function () { http.get('https://test.k6.io') }\n"
const metadata = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'js', options: {}, filename: 'file:///home/nobody/t/script.js', pwd: 'file:///home/nobody/t', env: {}, compatibilityMode: 'extended', k6version: '2.2.0', goos: 'linux', ...extra })

/** The shape k6 writes, for a script at /home/nobody/t/script.js with one data file. */
function base(): Entry[] {
  return [
    { header: { name: 'metadata.json' }, content: metadata() },
    { header: { name: 'data' }, content: SCRIPT },
    { header: { name: 'file', type: 'directory' } },
    { header: { name: 'file/home', type: 'directory' } },
    { header: { name: 'file/home/nobody', type: 'directory' } },
    { header: { name: 'file/home/nobody/t', type: 'directory' } },
    { header: { name: 'file/home/nobody/t/users.json' }, content: '[]' },
    { header: { name: 'file/home/nobody/t/script.js', type: 'link', linkname: 'data' } },
  ]
}

const withExtra = (...extra: Entry[]): Promise<Uint8Array> => craft([...base(), ...extra])

/** Offsets of every header block in a tar (extension headers included), by the name field. */
function headers(bytes: Uint8Array): { at: number; name: string; flag: string }[] {
  const out: { at: number; name: string; flag: string }[] = []
  let pos = 0
  while (pos + 512 <= bytes.length) {
    const block = bytes.subarray(pos, pos + 512)
    if (block.every((b) => b === 0)) {
      pos += 512
      continue
    }
    const name = Buffer.from(block.subarray(0, 100)).toString('utf8').replace(/\0.*$/s, '')
    const flag = String.fromCharCode(block[156]!)
    const size = parseInt(Buffer.from(block.subarray(124, 136)).toString().replace(/[\0 ]/g, '') || '0', 8)
    out.push({ at: pos, name, flag })
    pos += 512 + (flag === '5' || flag === '1' ? 0 : Math.ceil(size / 512) * 512)
  }
  return out
}

/** Edits the header named `name` in place (raw fields) and fixes its checksum. */
function patch(bytes: Uint8Array, name: string, edit: (block: Uint8Array) => void): Uint8Array {
  const copy = new Uint8Array(bytes)
  const h = headers(copy).find((x) => x.name === name)
  if (!h) throw new Error(`no header ${name}`)
  const block = copy.subarray(h.at, h.at + 512)
  edit(block)
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const b of block) sum += b
  Buffer.from(block.buffer, block.byteOffset, 512).write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
  return copy
}

const setSize = (n: number) => (block: Uint8Array) => void Buffer.from(block.buffer, block.byteOffset, 512).write(n.toString(8).padStart(11, '0') + '\0', 124, 'latin1')
const setFlag = (flag: string) => (block: Uint8Array) => void (block[156] = flag.charCodeAt(0))

function ok(check: ArchiveCheck): K6ArchiveSummary {
  if (!check.ok) throw new Error(`expected a good archive, got: ${check.problems.join(' | ')}`)
  return check.archive
}

function problems(check: ArchiveCheck): string {
  if (check.ok) throw new Error('expected the archive to be refused')
  for (const p of check.problems) {
    // Sentences for a user: no stack traces, no library text.
    expect(p).not.toMatch(/\n\s+at |Error:|tar-stream|Invalid tar header|Unexpected end of data/)
  }
  return check.problems.join('\n')
}

describe('archives written by k6 archive', () => {
  it('summarises a script that opens a data file and imports a module two folders deep', async () => {
    const script = "import { pick } from './lib/util/helpers.js'\nconst users = JSON.parse(open('./data/users.json'))\nexport default function () { pick(users) }\n"
    const { bytes } = await k6Archive(
      {
        'proj/script.js': script,
        'proj/data/users.json': '[{"name":"a"}]\n',
        'proj/lib/util/helpers.js': 'export function pick(list) { return list[0] }\n',
      },
      'script.js',
      ['-e', 'SECRET=hunter2'],
    )
    const a = ok(await readK6Archive(bytes, CAPS))
    expect(a.entry).toEqual({ name: 'script.js', source: script, language: 'javascript' })
    expect(a.files).toEqual([
      { path: 'data/users.json', size: 15 },
      { path: 'lib/util/helpers.js', size: 46 },
    ])
    expect(a.remote).toEqual([])
    expect(a.k6Version).toBe('2.2.0')
    const metadataSize = headers(bytes).find((h) => h.name === 'metadata.json')!
    const metaBytes = parseInt(Buffer.from(bytes.subarray(metadataSize.at + 124, metadataSize.at + 136)).toString().replace(/[\0 ]/g, ''), 8)
    expect(a.totalBytes).toBe(metaBytes + Buffer.byteLength(script) + 15 + 46)
  })

  it('summarises a TypeScript entry', async () => {
    const script = "import { pick } from './lib/util/helpers.ts'\nexport default function (): void { pick<number>([1]) }\n"
    const { bytes } = await k6Archive(
      { 'proj/main.ts': script, 'proj/lib/util/helpers.ts': 'export function pick<T>(list: T[]): T { return list[0]! }\n' },
      'main.ts',
    )
    const a = ok(await readK6Archive(bytes, CAPS))
    expect(a.entry).toEqual({ name: 'main.ts', source: script, language: 'typescript' })
    expect(a.files.map((f) => f.path)).toEqual(['lib/util/helpers.ts'])
  })

  it('keeps files outside the script folder, non-ASCII names (PAX) and long names (USTAR prefix)', async () => {
    const deep = 'a-rather-long-folder-name-that-keeps-on-going/another-long-folder-name-for-the-prefix-split/and-more'
    const script = `const a = open('../shared/outside.txt')\nconst b = open('./${deep}/deep.json')\nconst c = open('./donnée-é.csv')\nexport default function () {}\n`
    const { bytes, dir } = await k6Archive(
      { 'proj/s p#%.js': script, 'shared/outside.txt': 'x\n', [`proj/${deep}/deep.json`]: '{}', 'proj/donnée-é.csv': 'ü' },
      's p#%.js',
    )
    expect(headers(bytes).some((h) => h.flag === 'x')).toBe(true)
    const a = ok(await readK6Archive(bytes, CAPS))
    expect(a.entry.name).toBe('s p#%.js')
    expect(a.files).toEqual([
      { path: `${deep}/deep.json`, size: 2 },
      { path: 'donnée-é.csv', size: 2 },
      { path: `${dir.slice(1)}/shared/outside.txt`, size: 2 },
    ])
  })
})

describe('crafted archives of the same shape', () => {
  it('accepts the shape k6 writes and lists remote modules as URLs', async () => {
    const a = ok(await withExtra(
      { header: { name: 'https', type: 'directory' } },
      { header: { name: 'https/jslib.k6.io', type: 'directory' } },
      { header: { name: 'https/jslib.k6.io/k6-utils/1.4.0/index.js' }, content: 'export const x = 1\n' },
    ).then((b) => readK6Archive(b, CAPS)))
    expect(a.entry.name).toBe('script.js')
    expect(a.files).toEqual([{ path: 'users.json', size: 2 }])
    expect(a.remote).toEqual(['https://jslib.k6.io/k6-utils/1.4.0/index.js'])
  })

  it('shows an outside file under its archive name when it would look like an inside one', async () => {
    const a = ok(await withExtra(
      { header: { name: 'file/home/nobody/t/x', type: 'directory' } },
      { header: { name: 'file/home/nobody/t/x/a.txt' }, content: 'in' },
      { header: { name: 'file/x', type: 'directory' } },
      { header: { name: 'file/x/a.txt' }, content: 'out' },
    ).then((b) => readK6Archive(b, CAPS)))
    expect(a.files.map((f) => f.path)).toEqual(['file/x/a.txt', 'users.json', 'x/a.txt'])
  })
})

describe('hostile archives', () => {
  const refused = async (bytes: Uint8Array | Promise<Uint8Array>, pattern: RegExp, caps = CAPS) => {
    const text = problems(await readK6Archive(await bytes, caps))
    expect(text).toMatch(pattern)
    return text
  }

  it('refuses a symbolic link, naming it', async () => {
    await refused(withExtra({ header: { name: 'file/home/nobody/t/passwd', type: 'symlink', linkname: '/etc/passwd' } }), /"file\/home\/nobody\/t\/passwd" is a symbolic link/)
  })

  it('refuses devices, FIFOs and unknown types', async () => {
    await refused(withExtra({ header: { name: 'file/home/nobody/t/tty', type: 'character-device', devmajor: 5 } }), /"file\/home\/nobody\/t\/tty" is a character device/)
    await refused(withExtra({ header: { name: 'file/home/nobody/t/sda', type: 'block-device' } }), /"file\/home\/nobody\/t\/sda" is a block device/)
    await refused(withExtra({ header: { name: 'file/home/nobody/t/pipe', type: 'fifo' } }), /"file\/home\/nobody\/t\/pipe" is a FIFO/)
    const odd = patch(await withExtra({ header: { name: 'file/home/nobody/t/odd.txt' }, content: 'hello' }), 'file/home/nobody/t/odd.txt', setFlag('Z'))
    await refused(odd, /"file\/home\/nobody\/t\/odd.txt" is an entry of unknown type "Z"/)
  })

  it('refuses hard links other than the script\'s link to data', async () => {
    await refused(withExtra({ header: { name: 'file/home/nobody/t/shadow', type: 'link', linkname: '/etc/shadow' } }), /"file\/home\/nobody\/t\/shadow" is a hard link to "\/etc\/shadow"/)
    await refused(withExtra({ header: { name: 'file/home/nobody/t/copy.js', type: 'link', linkname: 'data' } }), /"file\/home\/nobody\/t\/copy.js" is a second hard link to data/)
    await refused(withExtra({ header: { name: 'file/home/nobody/t/meta', type: 'link', linkname: 'metadata.json' } }), /"file\/home\/nobody\/t\/meta" is a hard link to "metadata.json"/)
  })

  it('refuses a link to data that is not the script metadata.json names', async () => {
    const entries = base().filter((e) => e.header.type !== 'link')
    entries.push({ header: { name: 'file/home/nobody/t/other.js', type: 'link', linkname: 'data' } })
    await refused(craft(entries), /"file\/home\/nobody\/t\/other.js" links to data, but metadata.json names "file\/home\/nobody\/t\/script.js"/)
  })

  it('refuses names that climb, are absolute or use backslashes', async () => {
    await refused(withExtra({ header: { name: 'file/../../etc/cron.d/x' }, content: 'x' }), /"file\/..\/..\/etc\/cron.d\/x" climbs out of the archive with ".."/)
    await refused(withExtra({ header: { name: '../escape.js' }, content: 'x' }), /"..\/escape.js" climbs out/)
    await refused(withExtra({ header: { name: '/etc/passwd' }, content: 'x' }), /"\/etc\/passwd" has an absolute name/)
    await refused(withExtra({ header: { name: 'file\\home\\x.js' }, content: 'x' }), /"file\\\\home\\\\x.js" contains a backslash/)
  })

  it('refuses NUL, control and invisible characters in names', async () => {
    // A NUL ends a USTAR name field, so it can only arrive through a PAX path record.
    await refused(withExtra({ header: { name: 'file/home/nobody/t/a\0.json', pax: {} }, content: 'x' }), /"file\/home\/nobody\/t\/a\\u0000.json" contains the control or invisible character U\+0000/)
    await refused(withExtra({ header: { name: 'file/home/nobody/t/bell\u0007.json' }, content: 'x' }), /character U\+0007/)
    await refused(withExtra({ header: { name: 'file/home/nobody/t/evil\u202Egnp.js', pax: {} }, content: 'x' }), /character U\+202E/)
  })

  it('refuses duplicate names, including ones that differ only in Unicode normalisation', async () => {
    await refused(withExtra({ header: { name: 'file/home/nobody/t/users.json' }, content: '[1]' }), /"file\/home\/nobody\/t\/users.json" appears twice/)
    await refused(withExtra({ header: { name: 'metadata.json' }, content: metadata() }), /"metadata.json" appears twice/)
    await refused(
      withExtra({ header: { name: 'file/home/nobody/t/caf\u00e9.csv', pax: {} }, content: '1' }, { header: { name: 'file/home/nobody/t/cafe\u0301.csv', pax: {} }, content: '2' }),
      /same name written two ways/,
    )
  })

  it('stops listing after 20 problems', async () => {
    const extra = Array.from({ length: 100 }, (_, i) => ({ header: { name: `file/home/nobody/t/l${i}`, type: 'symlink' as const, linkname: '/etc/passwd' } }))
    const check = await readK6Archive(await withExtra(...extra), CAPS)
    expect(check.ok).toBe(false)
    if (!check.ok) {
      expect(check.problems).toHaveLength(21)
      expect(check.problems.at(-1)).toMatch(/and possibly more/)
    }
  })

  it('refuses a tar re-made by another tar program (GNU format)', async () => {
    const gnu = patch(await craft(base()), 'metadata.json', (b) => void Buffer.from(b.buffer, b.byteOffset, 512).write('ustar  \0', 257, 'latin1'))
    await refused(gnu, /"metadata.json" has a header in another tar dialect than the USTAR\/PAX one k6 writes/)
  })

  it('refuses entries outside metadata.json, data, file/ and https/', async () => {
    await refused(withExtra({ header: { name: 'evil.js' }, content: 'x' }), /"evil.js" is not part of a k6 archive/)
  })

  it('refuses a file larger than maxFileBytes, counting the bytes read', async () => {
    const big = new Uint8Array(CAPS.maxFileBytes + 1)
    await refused(withExtra({ header: { name: 'file/home/nobody/t/big.bin' }, content: big }), /"file\/home\/nobody\/t\/big.bin" is larger than 64 KB, the limit for one file/)
  })

  it('refuses contents over maxTotalBytes, and stops reading there', async () => {
    const chunk = new Uint8Array(60 * 1024)
    const extra = Array.from({ length: 6 }, (_, i) => ({ header: { name: `file/home/nobody/t/part${i}.bin` }, content: chunk }))
    const text = await refused(withExtra(...extra), /add up to more than 256 KB \(passed while reading "file\/home\/nobody\/t\/part4.bin"\)/)
    expect(text).not.toMatch(/part5/)
  })

  it('refuses more files than maxFiles', async () => {
    const extra = Array.from({ length: CAPS.maxFiles }, (_, i) => ({ header: { name: `file/home/nobody/t/f${i}.txt` }, content: 'x' }))
    await refused(withExtra(...extra), /holds more than 20 files; the limit is 20/)
  })

  it('refuses headers that lie about sizes', async () => {
    const good = await withExtra({ header: { name: 'file/home/nobody/t/z.txt' }, content: 'hello world '.repeat(100) })
    // Smaller than the content (by more than the padding): the rest is read as a header, which is not one.
    await refused(patch(good, 'file/home/nobody/t/z.txt', setSize(3)), /damaged after the entry "file\/home\/nobody\/t\/z.txt"/)
    // Larger than what follows: the archive ends inside the entry.
    await refused(patch(good, 'file/home/nobody/t/z.txt', setSize(10_000)), /ends in the middle of an entry.*truncated/)
    // A 1 GB claim with 70 KB behind it: refused from the bytes read (over the 64 KB cap), not from the claim.
    const filler = await withExtra({ header: { name: 'file/home/nobody/t/z.txt' }, content: 'x' }, { header: { name: 'file/home/nobody/t/filler.bin' }, content: new Uint8Array(70 * 1024) })
    const claim = await refused(patch(filler, 'file/home/nobody/t/z.txt', setSize(2 ** 30)), /"file\/home\/nobody\/t\/z.txt" is larger than 64 KB, the limit for one file/)
    expect(claim).not.toMatch(/GB/)
    // A body on a header-only entry (k6 and tar-stream would split the archive differently).
    const withBody = patch(good, 'file/home/nobody/t/script.js', setSize(512))
    await refused(withBody, /"file\/home\/nobody\/t\/script.js" is a hard link that claims 512 bytes of content/)
    await refused(patch(good, 'file/home/nobody/t', setSize(1024)), /"file\/home\/nobody\/t" is a folder that claims 1 KB of content/)
  })

  it('refuses extension headers k6 never writes', async () => {
    await refused(withExtra({ header: { name: 'file/home/nobody/t/s.bin', pax: { 'GNU.sparse.name': 'file/home/nobody/t/other' } }, content: 'x' }), /extension record "GNU.sparse.name"/)
    // A PAX header turned into a global one, which would rename later entries here but not in k6.
    const withPax = await withExtra({ header: { name: 'file/home/nobody/t/ü.txt' }, content: 'x' })
    const pax = headers(withPax).find((h) => h.flag === 'x')!
    await refused(patch(withPax, pax.name, setFlag('g')), /a PAX global header header between the entries/)
  })

  it('refuses entries hidden after the end-of-archive marker', async () => {
    const first = await craft(base())
    const second = await craft([{ header: { name: 'file/home/nobody/t/late.js' }, content: 'x' }])
    const joined = new Uint8Array([...first, ...second])
    await refused(joined, /end-of-archive marker between the entries "file\/home\/nobody\/t\/script.js" and "file\/home\/nobody\/t\/late.js"/)
  })

  it('refuses a gzip-compressed archive, saying k6 archives are plain tar', async () => {
    const { bytes } = await k6Archive({ 'proj/script.js': SCRIPT }, 'script.js')
    await refused(gzipSync(bytes), /gzip-compressed, but k6 archives are plain tar files \(`k6 archive script.js` writes one\)/)
  })

  it('refuses garbage, text, empty and truncated input with clear messages', async () => {
    const random = new Uint8Array(4096)
    for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24
    await refused(random, /^The file is not a tar archive\. Upload the \.tar file that `k6 archive script\.js` writes\.$/)
    await refused(new TextEncoder().encode(SCRIPT.repeat(20)), /The file is text, not a k6 archive/)
    await refused(new Uint8Array(0), /The archive is empty \(0 bytes\)/)
    await refused(new Uint8Array(1024), /The archive has no entries/)
    const good = await craft(base())
    await refused(good.subarray(0, 1000), /truncated/)
  })

  it('answers every damaged variant of a real archive with sentences, never an exception or a hang', async () => {
    const { bytes } = await k6Archive({ 'proj/script.js': SCRIPT, 'proj/data/users.json': '[]', 'proj/donnée.csv': 'a,b' }, 'script.js')
    let seed = 7
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n
    for (let i = 0; i < 400; i++) {
      const copy = new Uint8Array(bytes)
      for (let j = 0, n = 1 + rand(4); j < n; j++) copy[rand(Math.min(copy.length, 9 * 1024))] = rand(256)
      const cut = rand(4) === 0 ? copy.subarray(0, rand(copy.length)) : copy
      const check = await readK6Archive(cut, CAPS)
      if (!check.ok) for (const p of check.problems) expect(p).not.toMatch(/\n\s+at |Error:|Invalid tar header|Unexpected end of data/)
    }
  }, 60_000)

  it('requires metadata.json (JSON, at most 1 MB, a file:/// filename) and data', async () => {
    await refused(craft(base().filter((e) => e.header.name !== 'metadata.json')), /has no metadata.json/)
    await refused(craft(base().filter((e) => e.header.name !== 'data')), /has no data entry/)
    const replace = (content: string) => craft(base().map((e) => (e.header.name === 'metadata.json' ? { ...e, content } : e)))
    await refused(replace('{not json'), /metadata.json is not valid JSON/)
    await refused(replace('[1]'), /metadata.json is not a JSON object/)
    await refused(replace(metadata({ filename: 'https://example.com/script.js' })), /"filename" is "https:\/\/example.com\/script.js", not a local script/)
    await refused(replace(metadata({ filename: 'file:///home/nobody/../../etc/passwd' })), /"filename" .* is not a plain script path/)
    await refused(replace(metadata({ padding: 'x'.repeat(1024 * 1024) })), /metadata.json is larger than 1 MB/, { ...CAPS, maxFileBytes: 4 * 1024 * 1024, maxTotalBytes: 8 * 1024 * 1024 })
  })
})

describe('modules an archive loads', () => {
  const D = (name: string): Entry => ({ header: { name, type: 'directory' } })
  const withData = (script: string, ...extra: Entry[]): Promise<Uint8Array> =>
    craft([...base().map((e) => (e.header.name === 'data' ? { ...e, content: script } : e)), ...extra])
  const JSLIB = [D('https'), D('https/jslib.k6.io'), D('https/jslib.k6.io/k6-utils'), D('https/jslib.k6.io/k6-utils/1.4.0')]
  const refused = async (bytes: Promise<Uint8Array>, pattern: RegExp): Promise<string> => {
    const text = problems(await readK6Archive(await bytes, CAPS))
    expect(text).toMatch(pattern)
    return text
  }

  it('accepts remote modules the archive carries, with their relative imports, query strings and no extension', async () => {
    const script = [
      "import { randomItem } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js'",
      "import v from 'https://jslib.k6.io/k6-utils/1.4.0/version?v=2'",
      "export default function () { randomItem([v]) }",
      '',
    ].join('\n')
    const a = ok(await readK6Archive(await withData(
      script,
      ...JSLIB,
      { header: { name: 'https/jslib.k6.io/k6-utils/1.4.0/index.js' }, content: "export * from './lib/random.js'\n" },
      { header: { name: 'https/jslib.k6.io/k6-utils/1.4.0/version?v=2' }, content: 'export default 2\n' },
      D('https/jslib.k6.io/k6-utils/1.4.0/lib'),
      { header: { name: 'https/jslib.k6.io/k6-utils/1.4.0/lib/random.js' }, content: 'export const randomItem = (l) => l[0]\n//# sourceMappingURL=random.js.map\n' },
      { header: { name: 'https/jslib.k6.io/k6-utils/1.4.0/lib/random.js.map' }, content: '{"version":3,"sources":[],"mappings":""}' },
    ), CAPS))
    expect(a.remote).toEqual([
      'https://jslib.k6.io/k6-utils/1.4.0/index.js',
      'https://jslib.k6.io/k6-utils/1.4.0/lib/random.js',
      'https://jslib.k6.io/k6-utils/1.4.0/lib/random.js.map',
      'https://jslib.k6.io/k6-utils/1.4.0/version?v=2',
    ])
  })

  it('refuses an entry script importing a remote module the archive does not carry', async () => {
    const text = await refused(
      withData("import http from 'k6/http'\nimport { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js'\nexport default function () { http.get(uuidv4()) }\n"),
      /The script "script.js" imports "https:\/\/jslib.k6.io\/k6-utils\/1.4.0\/index.js" \(line 2:24\), but the archive does not carry that module, so k6 would download it/,
    )
    expect(text).toMatch(/Stampede never fetches what a test loads/)
  })

  it('refuses a local module importing a remote module the archive does not carry', async () => {
    await refused(
      withData(
        "import { pick } from './lib/helpers.js'\nexport default function () { pick() }\n",
        D('file/home/nobody/t/lib'),
        { header: { name: 'file/home/nobody/t/lib/helpers.js' }, content: "import { check } from 'https://jslib.k6.io/k6chaijs/4.3.4.3/index.js'\nexport const pick = () => check\n" },
      ),
      /The module "lib\/helpers.js" imports "https:\/\/jslib.k6.io\/k6chaijs\/4.3.4.3\/index.js" \(line 1:23\), but the archive does not carry that module/,
    )
  })

  it('refuses a computed require() or import(), naming the module and the position', async () => {
    await refused(
      withData(
        "import lib from './lib.cjs'\nexport default function () { lib() }\n",
        { header: { name: 'file/home/nobody/t/lib.cjs' }, content: "const name = 'https://example.com/' + 'x.js'\nmodule.exports = require(name)\n" },
      ),
      /The module "lib.cjs" loads a module whose name is computed \(require\(\) at line 2:26\)\. Stampede checks what a test loads before it runs, so give the module name as a literal string/,
    )
    await refused(withData("export default async function () { await import(`./${__ENV.MOD}.js`) }\n"), /The script "script.js" loads a module whose name is computed \(import\(\) at line 1:49\)/)
  })

  it('refuses a computed require() in an archive written by k6 archive', async () => {
    const { bytes } = await k6Archive(
      {
        'proj/script.js': "import lib from './lib.js'\nexport default function () { lib.f() }\n",
        'proj/lib.js': "const name = './impl' + '.js'\nmodule.exports = require(name)\n",
        'proj/impl.js': 'module.exports = { f() {} }\n',
      },
      'script.js',
    )
    expect(headers(bytes).some((h) => h.name.endsWith('/impl.js'))).toBe(true)
    await refused(Promise.resolve(bytes), /The module "lib.js" loads a module whose name is computed \(require\(\) at line 2:26\)/)
  })

  it('resolves relative imports inside a remote module to remote URLs', async () => {
    await refused(
      withData(
        "import x from 'https://jslib.k6.io/k6-utils/1.4.0/index.js'\nexport default function () { x() }\n",
        ...JSLIB,
        { header: { name: 'https/jslib.k6.io/k6-utils/1.4.0/index.js' }, content: "export { default } from '../../other/x.js'\n" },
      ),
      /The remote module "https:\/\/jslib.k6.io\/k6-utils\/1.4.0\/index.js" imports "..\/..\/other\/x.js" \(line 1:25\), which k6 resolves to "https:\/\/jslib.k6.io\/other\/x.js", but the archive does not carry/,
    )
    // A host-relative name switches host.
    await refused(
      withData(
        "import x from 'https://jslib.k6.io/k6-utils/1.4.0/index.js'\nexport default function () { x() }\n",
        ...JSLIB,
        { header: { name: 'https/jslib.k6.io/k6-utils/1.4.0/index.js' }, content: "export { default } from '//evil.example/x.js'\n" },
      ),
      /which k6 resolves to "https:\/\/evil.example\/x.js"/,
    )
  })

  it('refuses http://, any case of https://, and remote source maps', async () => {
    await refused(withData("import x from 'http://example.com/x.js'\nexport default function () {}\n"), /imports "http:\/\/example.com\/x.js" \(line 1:15\) over plain http:\/\/, which k6 refuses/)
    await refused(withData("import x from 'HTTPS://example.com/x.js'\nexport default function () {}\n"), /imports "HTTPS:\/\/example.com\/x.js" \(line 1:15\), which k6 resolves to "https:\/\/example.com\/x.js", but the archive does not carry/)
    await refused(withData('export default function () {}\n//# sourceMappingURL=https://example.com/s.js.map\n\n'), /The script "script.js" ends with a source map comment \(line 2\) pointing to "https:\/\/example.com\/s.js.map", which the archive does not carry/)
    const inline = `export default function () {}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from('{"version":3,"sources":[],"mappings":""}').toString('base64')}\n`
    ok(await readK6Archive(await withData(inline), CAPS))
  })

  it('checks a local file that is imported as a module whatever its name', async () => {
    await refused(
      withData(
        "import x from './helpers.txt'\nexport default function () { x() }\n",
        { header: { name: 'file/home/nobody/t/helpers.txt' }, content: "export { default } from 'https://example.com/x.js'\n" },
      ),
      /The module "helpers.txt" imports "https:\/\/example.com\/x.js"/,
    )
  })

  it('leaves modules that do not parse, and local and k6 imports, to k6', async () => {
    const a = ok(await readK6Archive(await withData(
      "import http from 'k6/http'\nimport { gone } from './missing.js'\nexport default function () { http.get(gone) }\n",
      { header: { name: 'file/home/nobody/t/broken.js' }, content: "import x from 'https://example.com/x.js'\nexport default function ( {\n" },
    ), CAPS))
    expect(a.files.map((f) => f.path)).toEqual(['broken.js', 'users.json'])
  })
})
