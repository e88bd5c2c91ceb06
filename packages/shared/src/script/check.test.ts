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

  it('accepts remote modules and files next to the script', () => {
    const s = `import { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js'\nimport { helper } from './lib/helper.js'\nconst data = open('./data/users.json')\nexport default function () { helper(uuidv4(), data) }`
    expect(checkScript(s).errors).toEqual([])
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
