import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { checkScript, MAX_SCRIPT_BYTES } from './check.ts'
import { TEMPLATES } from '../templates/index.ts'

const corpus = (kind: 'valid' | 'invalid') => {
  const dir = new URL(`./corpus/${kind}/`, import.meta.url)
  return readdirSync(dir)
    .sort()
    .map((file) => ({ file, source: readFileSync(new URL(file, dir), 'utf8') }))
}

describe('valid corpus', () => {
  const files = corpus('valid')
  it('holds at least 40 scripts', () => expect(files.length).toBeGreaterThanOrEqual(40))
  it.each(files)('$file has no errors', ({ file, source }) => {
    const result = checkScript(source, { filename: file })
    expect(result.errors).toEqual([])
    expect(result.language).toBe(file.endsWith('.ts') ? 'typescript' : 'javascript')
  })
})

describe('invalid corpus', () => {
  const files = corpus('invalid')
  it('holds at least 40 scripts', () => expect(files.length).toBeGreaterThanOrEqual(40))
  it.each(files)('$file yields the expected finding', ({ file, source }) => {
    const header = source.split('\n', 1)[0] ?? ''
    const [, code, line, column] = header.split(/[\s:]+/).filter(Boolean).slice(1)
    expect(code, `${file} needs a "// expect: code line:col" header`).toBeDefined()
    const { errors } = checkScript(source, { filename: file })
    expect(errors.map((e) => `${e.code} ${e.line}:${e.column}`)).toContain(`${code} ${line}:${column}`)
    const finding = errors.find((e) => e.code === code)!
    expect(finding.message.length).toBeGreaterThan(20)
  })
})

describe('checkScript', () => {
  it('refuses a script over the size cap, naming the size and the limit', () => {
    const big = `import http from 'k6/http'\nexport default function () {}\n//${'x'.repeat(MAX_SCRIPT_BYTES)}`
    const { errors } = checkScript(big)
    expect(errors).toEqual([{ code: 'script-too-large', line: 1, column: 1, message: expect.stringContaining('limit is 500 KB') }])
  })

  it('accepts k6/browser where the location supports browsers', () => {
    const s = `import { browser } from 'k6/browser'\nexport default async function () { const p = await browser.newPage(); await p.close() }`
    expect(checkScript(s).errors.map((e) => e.code)).toEqual(['browser-unsupported'])
    expect(checkScript(s, { browserSupported: true }).errors).toEqual([])
  })

  it('accepts files next to the script', () => {
    const s = `import { helper } from './lib/helper.js'\nconst data = open('./data/users.json')\nexport default function () { helper(data) }`
    expect(checkScript(s).errors).toEqual([])
  })

  it('refuses remote modules (never fetched) and computed import()/require(), saying what to do instead', () => {
    const s = `import { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js'\nconst m = 'x.js'\nconst a = require(m)\nconst b = require('./lib/' + m)\nexport default async function () { await import(m) }`
    const r = checkScript(s)
    expect(r.errors.map((e) => `${e.line}:${e.column} ${e.code}`)).toEqual(['1:24 remote-import', '3:19 computed-import', '4:19 computed-import', '5:49 computed-import'])
    expect(r.errors[0]!.message).toContain('Download it into the test\'s files and import it from there (e.g. "./lib/index.js"), or build a k6 archive')
    expect(r.errors[1]!.message).toContain('write the module\'s name as a string')
    // require by another name is a require no check can follow.
    const aliased = checkScript(`const r = require\nconst m = globalThis.require('https://x.example/m.js')\nconst ok = require('./lib/a.js')\nconst o = { require: 1 }\nexport default function () { r('x') }`)
    expect(aliased.errors.map((e) => `${e.line}:${e.column} ${e.code}`)).toEqual(['1:11 computed-import', '2:22 computed-import'])
  })

  it('refuses a source map comment naming a URL (k6 would fetch it), not an inline or relative one', () => {
    const body = 'export default function () {}\n'
    expect(checkScript(`${body}//# sourceMappingURL=https://maps.example/s.js.map\n`).errors.map((e) => `${e.line}:${e.column} ${e.code}`)).toEqual(['2:1 remote-source-map'])
    expect(checkScript(`${body}//@ sourceMappingURL=HTTP://10.0.0.1/m`).errors.map((e) => e.code)).toEqual(['remote-source-map'])
    expect(checkScript(`${body}//# sourceMappingURL=data:application/json;base64,e30=\n`).errors).toEqual([])
    expect(checkScript(`import x from 'HTTPS://jslib.example/x.js'\n${body}`).errors.map((e) => e.code)).toEqual(['remote-import'])
    expect(checkScript(`${body}//# sourceMappingURL=script.js.map\n`).errors).toEqual([])
    expect(checkScript(`export const x = 1\n//# sourceMappingURL=https://m.example/x.map`, { module: true, filename: 'lib/x.js' }).errors.map((e) => e.code)).toEqual(['remote-source-map'])
  })

  it('warns about a script without options, without thresholds, and about misspelt threshold metrics', () => {
    expect(checkScript(`import http from 'k6/http'\nexport default function () {}`).warnings.map((w) => w.code)).toEqual(['no-options'])
    expect(checkScript(`import http from 'k6/http'\nexport const options = { vus: 1 }\nexport default function () {}`).warnings).toEqual([
      expect.objectContaining({ code: 'no-thresholds', line: 2, column: 24 }),
    ])
    const typo = `import http from 'k6/http'\nimport { Trend } from 'k6/metrics'\nconst t = new Trend('login_time')\nexport const options = {\n  thresholds: { http_req_duraton: ['p(95)<500'], 'http_req_duration{status:200}': ['p(95)<500'], login_time: ['avg<1'], logintime: ['avg<1'] },\n}\nexport default function () {}`
    const warnings = checkScript(typo).warnings
    expect(warnings.map((w) => `${w.code} ${w.line}:${w.column}`)).toEqual(['unknown-threshold-metric 5:17', 'unknown-threshold-metric 5:121'])
    expect(warnings[0]!.message).toContain('Did you mean "http_req_duration"?')
    expect(warnings[1]!.message).toContain('Did you mean "login_time"?')
  })

  it('warns about console output in the default function only at high VU counts', () => {
    const script = (vus: number) => `import http from 'k6/http'\nexport const options = { vus: ${vus}, duration: '1m', thresholds: { checks: ['rate>0.9'] } }\nexport default () => {\n  console.log('hit')\n}`
    expect(checkScript(script(10)).warnings).toEqual([])
    expect(checkScript(script(200)).warnings).toEqual([expect.objectContaining({ code: 'console-in-default-high-vus', line: 4, column: 3, message: expect.stringContaining('200 VUs') })])
  })

  it('warns, but does not refuse, a self-contained script without imports', () => {
    const r = checkScript(`export function setup() { throw new Error('x') }\nexport default function () {}`)
    expect(r.errors).toEqual([])
    expect(r.warnings.map((w) => w.code)).toEqual(['no-k6-import', 'no-options'])
  })
})

describe('templates', () => {
  it('has at least 10 templates with distinct ids', () => {
    expect(TEMPLATES.length).toBeGreaterThanOrEqual(10)
    expect(new Set(TEMPLATES.map((t) => t.id)).size).toBe(TEMPLATES.length)
  })
  it.each(TEMPLATES.map((t) => ({ ...t })))('$id validates clean and matches its file', ({ script, file }) => {
    const { errors, warnings } = checkScript(script)
    expect(errors).toEqual([])
    expect(warnings).toEqual([])
    expect(script).toBe(readFileSync(new URL(`../templates/scripts/${file}`, import.meta.url), 'utf8'))
    expect(script).toMatch(/__ENV\.(BASE_URL|WS_URL)/)
  })
})

describe("checkScript with the test's files", () => {
  const script = (body: string) => `import http from 'k6/http'\nimport { SharedArray } from 'k6/data'\n${body}\nexport default function () {}\n`
  const codes = (r: ReturnType<typeof checkScript>) => r.errors.map((e) => `${e.line}:${e.column} ${e.code}`)

  it('finds imports and literal open() paths among the files, resolved from the checked file', () => {
    const files = new Set(['data/users.json', 'lib/helper.js', 'lib/note.txt'])
    const entry = script(`import { helper } from './lib/helper.js'\nconst users = new SharedArray('u', () => JSON.parse(open('./data/users.json')))`)
    expect(checkScript(entry, { files }).errors).toEqual([])
    // A module in lib/ reads its neighbour as ./note.txt, as k6 resolves it.
    const helper = `const note = open('./note.txt')\nexport function helper() { return note }\n`
    expect(checkScript(helper, { files, filename: 'lib/helper.js' }).errors.filter((e) => e.code === 'missing-file')).toEqual([])
    expect(checkScript(helper, { files }).errors.map((e) => e.code)).toContain('missing-file')
  })

  it('reports a missing file at the reference, naming the file and how to add it', () => {
    const r = checkScript(script(`import { helper } from './lib/helper.js'\nconst users = new SharedArray('u', () => JSON.parse(open("./users.json")))\nconst csv = open(\`data/list.csv\`)`), { files: new Set() })
    expect(codes(r)).toEqual(['3:24 missing-file', '4:58 missing-file', '5:18 missing-file'])
    expect(r.errors[0]!.message).toBe(`"./lib/helper.js" imports lib/helper.js, which the test does not have. Add lib/helper.js to the test's files (in the web, Files → Upload; the CLI collects it from the script's folder).`)
    expect(r.errors[1]!.message).toMatch(/^open\("\.\/users\.json"\) reads users\.json, which the test does not have\. Add users\.json/)
    expect(r.errors[1]!.message).not.toMatch(/\/tmp|stampede-inspect/)
  })

  it('refuses imports that leave the test folder; open() keeps its own codes', () => {
    const r = checkScript(script(`import a from '../shared/a.js'\nimport b from '/etc/b.js'\nconst x = open('../x.json')\nconst y = open('/etc/passwd')`), { files: new Set(['a.js']) })
    expect(codes(r)).toEqual(['3:15 import-outside-folder', '4:15 import-outside-folder', '5:16 open-escapes-folder', '6:16 open-absolute-path'])
  })

  it('leaves computed open() paths and k6 modules alone, and checks nothing without files', () => {
    const body = script(`import { sleep } from 'k6'\nconst name = 'users.json'\nconst u = open('./' + name)`)
    expect(checkScript(body, { files: new Set() }).errors).toEqual([])
    expect(checkScript(script(`const u = open('./users.json')`)).errors).toEqual([])
  })
})
