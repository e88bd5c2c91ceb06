import { describe, expect, it } from 'vitest'
import { declarations, importBindings, inOptionsKey, k6Hints } from './hints.ts'
import { render } from './generate.ts'
import { readFileSync } from 'node:fs'

const names = (members: { name: string }[]) => members.map((m) => m.name)

describe('importBindings', () => {
  it('reads default, namespace, named and renamed imports, over several lines', () => {
    const source = `import http from 'k6/http'
import { check, sleep as pause } from "k6"
import * as metrics from 'k6/metrics'
import exec, {
  vu,
} from 'k6/execution'
import type { Options } from 'k6/options'
import _ from 'lodash'`
    expect(importBindings(source)).toEqual([
      { local: 'http', module: 'k6/http', imported: 'default' },
      { local: 'check', module: 'k6', imported: 'check' },
      { local: 'pause', module: 'k6', imported: 'sleep' },
      { local: 'metrics', module: 'k6/metrics', imported: '*' },
      { local: 'exec', module: 'k6/execution', imported: 'default' },
      { local: 'vu', module: 'k6/execution', imported: 'vu' },
      { local: '_', module: 'lodash', imported: 'default' },
    ])
  })
})

describe('declarations', () => {
  it('follows calls, constructions and reads', () => {
    expect(declarations(`const res = http.get(url)\nlet c = new Counter('x')\nconst v = exec . vu\nconst r = await http.asyncRequest('GET', u)`)).toEqual([
      { local: 'res', how: 'call', path: ['http', 'get'] },
      { local: 'c', how: 'new', path: ['Counter'] },
      { local: 'v', how: 'read', path: ['exec', 'vu'] },
      { local: 'r', how: 'call', path: ['http', 'asyncRequest'] },
    ])
  })
})

describe('k6Hints', () => {
  const script = `import http from 'k6/http'
import { check } from 'k6'
import exec from 'k6/execution'
import { Counter } from 'k6/metrics'
const hits = new Counter('hits')
export default function () {
  const res = http.get(__ENV.BASE_URL)
  const again = res
}`
  const hints = k6Hints(script)

  it('offers a module default import its exports', () => {
    expect(names(hints.membersOf(['http']))).toEqual(expect.arrayContaining(['get', 'post', 'batch', 'request']))
  })

  it('follows a call to its result: http.get returns a response', () => {
    expect(names(hints.membersOf(['res']))).toEqual(expect.arrayContaining(['status', 'body', 'json', 'timings']))
    expect(names(hints.membersOf(['res', 'timings']))).toEqual(expect.arrayContaining(['duration', 'waiting']))
    expect(names(hints.membersOf(['again']))).toContain('status')
  })

  it('follows a constructor to its instances, and members of exported objects', () => {
    expect(names(hints.membersOf(['hits']))).toContain('add')
    expect(names(hints.membersOf(['exec', 'vu']))).toEqual(expect.arrayContaining(['idInTest', 'iterationInScenario']))
  })

  it('describes exports, members and globals for hover hints', () => {
    expect(hints.describe(['http', 'get'])).toMatchObject({ path: 'k6/http.get', member: { kind: 'function', doc: 'Make GET request.' } })
    expect(hints.describe(['check'])?.member.url).toMatch(/^https:\/\/grafana\.com\/docs\/k6\//)
    expect(hints.describe(['__ENV'])?.member.doc).toBe('Environment variables.')
    expect(hints.describe(['res', 'status'])?.member.detail).toBe(': number')
  })

  it('knows nothing about names that are not from k6', () => {
    const other = k6Hints(`import _ from 'lodash'\nconst x = foo.bar()\nconst a = b\nconst b = a`)
    expect(other.membersOf(['_'])).toEqual([])
    expect(other.membersOf(['x'])).toEqual([])
    expect(other.membersOf(['a'])).toEqual([]) // a cycle ends, it does not loop
    expect(other.describe(['http', 'get'])).toBeUndefined()
  })

  it('lists imported names and k6 globals in scope', () => {
    expect(names(hints.scope().map((s) => ({ name: s.name })))).toEqual(expect.arrayContaining(['check', 'Counter', '__ENV', '__VU', 'open']))
  })
})

describe('inOptionsKey', () => {
  const head = `import http from 'k6/http'\nexport const options = {\n`
  it('is true where a top-level key of options goes', () => {
    expect(inOptionsKey(`${head}  `)).toBe(true)
    expect(inOptionsKey(`${head}  vu`)).toBe(true)
    expect(inOptionsKey(`${head}  vus: 2,\n  dur`)).toBe(true)
    expect(inOptionsKey(`${head}  stages: [{ duration: '1m', target: 2 }],\n  th`)).toBe(true)
    expect(inOptionsKey(`export const options: Options = { `)).toBe(true)
  })

  it('is false in values, nested objects, strings, comments and after the object', () => {
    expect(inOptionsKey(`${head}  vus: `)).toBe(false)
    expect(inOptionsKey(`${head}  thresholds: {\n    ht`)).toBe(false)
    expect(inOptionsKey(`${head}  duration: '1`)).toBe(false)
    expect(inOptionsKey(`${head}  // a comment, `)).toBe(false)
    expect(inOptionsKey(`${head}  vus: 1,\n}\nexport default function () {\n  `)).toBe(false)
    expect(inOptionsKey(`const options = {\n  `)).toBe(false)
  })
})

describe('api.generated.ts', () => {
  it('is what generate.ts makes from the installed @types/k6 (run it after upgrading @types/k6)', () => {
    expect(readFileSync(new URL('./api.generated.ts', import.meta.url), 'utf8')).toBe(render())
  })
})
