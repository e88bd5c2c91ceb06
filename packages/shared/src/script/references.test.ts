import { describe, expect, it } from 'vitest'
import { scriptReferences } from './references.ts'

describe('scriptReferences', () => {
  it('lists static imports, re-exports, dynamic import() and require() with their kind and position', () => {
    const source = [
      "import http from 'k6/http'",
      "import { a } from './lib/a.js'",
      "export { b } from '../shared/b.js'",
      "export * from './c.js'",
      "import { x } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js'",
      'export default async function () {',
      "  const d = await import('./d.js')",
      "  const e = require('./e.js')",
      '  const f = await import(`./f-${__VU}.js`)',
      '}',
    ].join('\n')
    const r = scriptReferences(source)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.imports).toEqual([
      { specifier: 'k6/http', kind: 'k6', line: 1, column: 18 },
      { specifier: './lib/a.js', kind: 'local', line: 2, column: 19 },
      { specifier: '../shared/b.js', kind: 'local', line: 3, column: 19 },
      { specifier: './c.js', kind: 'local', line: 4, column: 15 },
      { specifier: 'https://jslib.k6.io/k6-utils/1.4.0/index.js', kind: 'remote', line: 5, column: 19 },
      { specifier: './d.js', kind: 'local', line: 7, column: 26 },
      { specifier: './e.js', kind: 'local', line: 8, column: 21 },
    ])
    expect(r.opens).toEqual([])
    expect(r.computedImports).toEqual([{ kind: 'import', line: 9, column: 26 }])
  })

  it('lists computed require() and import() separately, since they cannot be followed', () => {
    const r = scriptReferences("const m = require(name)\nconst n = require('./n.js')\nexport default async function () { await import(base + '.js') }\n")
    expect(r.ok && r.computedImports).toEqual([
      { kind: 'require', line: 1, column: 19 },
      { kind: 'import', line: 3, column: 49 },
    ])
    expect(r.ok && r.imports.map((i) => i.specifier)).toEqual(['./n.js'])
  })

  it('lists open() calls: literal paths, and computed ones without a path', () => {
    const source = [
      "const users = JSON.parse(open('./data/users.json'))",
      'const img = open(`img/logo.png`, "b")',
      'const name = "x.csv"',
      'const other = open(name)',
      'export default function () {}',
    ].join('\n')
    const r = scriptReferences(source)
    expect(r.ok && r.opens).toEqual([
      { path: './data/users.json', line: 1, column: 31 },
      { path: 'img/logo.png', line: 2, column: 18 },
      { path: undefined, line: 4, column: 20 },
    ])
  })

  it('reads TypeScript, ignoring type-only imports', () => {
    const source = "import type { T } from './types.ts'\nimport { h } from './h.ts'\nconst n: number = 1\nexport default function () { open('a.txt') }\n"
    const r = scriptReferences(source, 'main.ts')
    expect(r.ok && r.imports.map((i) => i.specifier)).toEqual(['./h.ts'])
    expect(r.ok && r.opens.map((o) => o.path)).toEqual(['a.txt'])
  })

  it('reports a script that does not parse with the message and position', () => {
    const r = scriptReferences('export default function () {\n  let = = 1\n}\n', 'a.js')
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.line).toBe(2)
    expect(r.column).toBeGreaterThan(0)
    expect(r.message.length).toBeGreaterThan(5)
  })
})
