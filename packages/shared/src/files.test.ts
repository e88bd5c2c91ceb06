import { describe, expect, it } from 'vitest'
import { checkFilePath, checkFileSet, DEFAULT_FILE_CAPS, MAX_FILE_DEPTH, resolveFileReference } from './files.ts'

const refused = (input: string) => {
  const r = checkFilePath(input)
  if (r.ok) throw new Error(`${JSON.stringify(input)} was accepted as ${r.path}`)
  return r.message
}

describe('checkFilePath', () => {
  it('accepts plain relative names and stores them without ./ and in NFC', () => {
    expect(checkFilePath('users.json')).toEqual({ ok: true, path: 'users.json' })
    expect(checkFilePath('./data/users.csv')).toEqual({ ok: true, path: 'data/users.csv' })
    expect(checkFilePath('lib/deep/helper.ts')).toEqual({ ok: true, path: 'lib/deep/helper.ts' })
    expect(checkFilePath('données/été.json')).toEqual({ ok: true, path: 'données/été.json' })
    // "é" as e + combining accent is the same name as the precomposed one.
    expect(checkFilePath('cafe\u0301.txt')).toEqual({ ok: true, path: 'caf\u00e9.txt' })
    expect(checkFilePath('.hidden/x.json')).toEqual({ ok: true, path: '.hidden/x.json' })
  })

  it('refuses names that climb out, are absolute or use another separator, saying what to do', () => {
    expect(refused('../secrets.json')).toMatch(/climbs out of the test's folder/)
    expect(refused('data/../../x')).toMatch(/climbs out/)
    expect(refused('data/../users.json')).toMatch(/climbs out/)
    expect(refused('/etc/passwd')).toMatch(/absolute; give it relative/)
    expect(refused('C:/x.json')).toMatch(/absolute/)
    expect(refused('file:///etc/passwd')).toMatch(/absolute/)
    expect(refused('data\\users.json')).toMatch(/backslash; separate folders with "\/"/)
  })

  it('refuses control and invisible characters by code point', () => {
    expect(refused('a\u0000b')).toContain('U+0000')
    expect(refused('a\nb.json')).toContain('U+000A')
    expect(refused('a\u007f')).toContain('U+007F')
    expect(refused('users\u202ejson.js')).toContain('U+202E')
    expect(refused('\u200busers.json')).toContain('U+200B')
  })

  it('refuses empty segments, the entry script\'s names, and overlong or overdeep names', () => {
    expect(refused('')).toMatch(/needs a name/)
    expect(refused('data//users.json')).toMatch(/empty folder name/)
    expect(refused('data/')).toMatch(/empty folder name/)
    expect(refused('data/./users.json')).toMatch(/empty folder name/)
    expect(refused('script.js')).toMatch(/the test's own script/)
    expect(checkFilePath('lib/script.js')).toEqual({ ok: true, path: 'lib/script.js' })
    expect(refused(`${'a'.repeat(256)}.json`)).toMatch(/longer than 255 bytes|characters long/)
    expect(refused('x/'.repeat(MAX_FILE_DEPTH + 1) + 'f.json')).toMatch(/folders deep; the limit is 10/)
  })
})

describe('checkFileSet', () => {
  it('accepts a set within the caps', () => {
    expect(checkFileSet([{ path: 'a.json', size: 10 }, { path: 'lib/b.js', size: 20 }])).toEqual([])
  })

  it('names every problem with the numbers: size, total, count, duplicates, file-and-folder', () => {
    const caps = { maxFileBytes: 1024, maxTotalBytes: 2048, maxFiles: 3 }
    const problems = checkFileSet(
      [
        { path: 'big.csv', size: 1500 },
        { path: 'data', size: 1 },
        { path: 'data/users.json', size: 600 },
        { path: 'data/users.json', size: 600 },
      ],
      caps,
    ).map((p) => p.message)
    expect(problems).toEqual([
      'The test has 4 files; the limit is 3. Remove files it does not read, or pack data into fewer files.',
      'big.csv is 1.5 KB; a file may be at most 1 KB.',
      'data/users.json is given twice; each file needs its own name.',
      'data is both a file and a folder of other files; rename one of them.',
      "The test's files add up to 2.6 KB; the limit is 2 KB.",
    ])
  })

  it('has defaults a real data set fits in', () => {
    expect(DEFAULT_FILE_CAPS.maxFileBytes).toBeGreaterThanOrEqual(10 * 1024 * 1024)
  })
})

describe('resolveFileReference', () => {
  it('resolves relative to the referring file, like k6 does for imports and open()', () => {
    expect(resolveFileReference('script.js', './users.json')).toBe('users.json')
    expect(resolveFileReference('script.js', 'data/users.json')).toBe('data/users.json')
    expect(resolveFileReference('lib/helper.js', './note.txt')).toBe('lib/note.txt')
    expect(resolveFileReference('lib/deep/a.js', '../../data/x.csv')).toBe('data/x.csv')
    expect(resolveFileReference('lib/a.js', '../../x.csv')).toBeNull()
    expect(resolveFileReference('script.js', '../x')).toBeNull()
  })
})
