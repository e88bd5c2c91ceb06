import { describe, expect, it } from 'vitest'
import { checkFolder, csvRows, editorLanguage, isTextPath, jsonPreview, previewKind, shortSha, textPreview, uploadPath } from './kinds.ts'

describe('file kinds', () => {
  it('opens modules and text data files in the editor, and shows other files by size', () => {
    expect(isTextPath('lib/helpers.js')).toBe(true)
    expect(isTextPath('lib/types.ts')).toBe(true)
    expect(isTextPath('data/users.CSV')).toBe(true)
    expect(isTextPath('assets/logo.png')).toBe(false)
    expect(previewKind('data/users.csv')).toBe('csv')
    expect(previewKind('data/users.json')).toBe('json')
    expect(previewKind('notes.txt')).toBe('text')
    expect(previewKind('data.bin')).toBe('binary')
    expect(editorLanguage('lib/a.mjs')).toBe('script')
    expect(editorLanguage('data/users.json')).toBe('plain')
    expect(shortSha('a'.repeat(64))).toBe('a'.repeat(12))
  })
})

describe('uploadPath and checkFolder', () => {
  it('puts a picked file under the chosen folder', () => {
    expect(uploadPath('', 'users.json')).toBe('users.json')
    expect(uploadPath(' data/ ', 'users.json')).toBe('data/users.json')
    expect(uploadPath('./lib', 'sub/helpers.js')).toBe('lib/sub/helpers.js')
  })

  it('refuses a folder that climbs out or is absolute, saying so', () => {
    expect(checkFolder('')).toBeNull()
    expect(checkFolder('data/csv')).toBeNull()
    expect(checkFolder('../up')).toMatch(/^The folder "..\/up\/…" climbs out/)
    expect(checkFolder('/abs')).toMatch(/absolute/)
  })
})

describe('csvRows', () => {
  it('reads quoted fields, doubled quotes and CRLF line ends, up to the limit', () => {
    expect(csvRows('a,b\r\n"x, y","say ""hi"""\n1,2\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['1', '2'],
    ])
    expect(csvRows('h\n1\n2\n3\n', 2)).toEqual([['h'], ['1']])
    expect(csvRows('a\tb\n1\t2', 20, '\t')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ])
    expect(csvRows('')).toEqual([])
  })
})

describe('jsonPreview and textPreview', () => {
  it('pretty-prints JSON and cuts it to the first lines', () => {
    expect(jsonPreview('[1,2]')).toEqual({ lines: ['[', '  1,', '  2', ']'], more: 0 })
    expect(jsonPreview('[1,2,3]', 2)).toEqual({ lines: ['[', '  1,'], more: 3 })
    expect(jsonPreview('{oops')).toHaveProperty('error')
    expect(textPreview('a\nb\nc', 2)).toEqual({ lines: ['a', 'b'], more: 1 })
  })
})
