import { Text } from '@codemirror/state'
import { describe, expect, it } from 'vitest'
import { findingRange, toDiagnostics } from './diagnostics.ts'

const doc = Text.of(["import http from 'k6/http'", "import _ from 'lodash'", '', 'export default function () {', '  http.get(url', '}'])
const text = (range: { from: number; to: number }) => doc.sliceString(range.from, range.to)

describe('findingRange', () => {
  it('puts a 1-based line and column on the token there', () => {
    const range = findingRange(doc, { line: 2, column: 15 })
    expect(text(range)).toBe("'lodash'")
    expect(range).toMatchObject({ line: 2, column: 15, from: doc.line(2).from + 14 })
    expect(text(findingRange(doc, { line: 5, column: 3 }))).toBe('http')
    expect(text(findingRange(doc, { line: 5, column: 7 }))).toBe('.')
  })

  it('marks a point, not a range, at the end of a line or on an empty line', () => {
    const end = findingRange(doc, { line: 5, column: 15 })
    expect(end.from).toBe(doc.line(5).to)
    expect(end.to).toBe(end.from)
    const empty = findingRange(doc, { line: 3, column: 1 })
    expect(empty).toMatchObject({ from: doc.line(3).from, to: doc.line(3).from })
  })

  it('keeps a position past the end of the document, or nonsense, inside it', () => {
    expect(findingRange(doc, { line: 99, column: 99 })).toMatchObject({ line: 6, column: 2, from: doc.length, to: doc.length })
    expect(findingRange(doc, { line: 5, column: 200 })).toMatchObject({ line: 5, column: 15 })
    expect(findingRange(doc, { line: 0, column: 0 })).toMatchObject({ line: 1, column: 1, from: 0 })
    expect(text(findingRange(doc, { line: Number.NaN, column: 1 }))).toBe('import')
  })
})

describe('toDiagnostics', () => {
  it('lists errors before warnings, with their codes and messages', () => {
    const diagnostics = toDiagnostics(doc, {
      warnings: [{ code: 'no-thresholds', message: 'No thresholds.', line: 1, column: 1 }],
      errors: [{ code: 'npm-package-import', message: '"lodash" is an npm package.', line: 2, column: 15 }],
    })
    expect(diagnostics).toEqual([
      { from: doc.line(2).from + 14, to: doc.line(2).to, severity: 'error', source: 'npm-package-import', message: '"lodash" is an npm package.' },
      { from: 0, to: 6, severity: 'warning', source: 'no-thresholds', message: 'No thresholds.' },
    ])
  })
})
