import { describe, expect, it } from 'vitest'
import { engineFinding, parseGoDuration } from './inspect.ts'

describe('parseGoDuration', () => {
  it('reads Go durations as k6 prints them', () => {
    expect(parseGoDuration('40s')).toBe(40)
    expect(parseGoDuration('1h2m3.5s')).toBe(3723.5)
    expect(parseGoDuration('500ms')).toBeCloseTo(0.5)
    expect(parseGoDuration('1m30s')).toBe(90)
    expect(parseGoDuration('0s')).toBe(0)
  })

  it('refuses anything else', () => {
    expect(parseGoDuration('')).toBeUndefined()
    expect(parseGoDuration('40')).toBeUndefined()
    expect(parseGoDuration('40s and more')).toBeUndefined()
  })
})

describe('engineFinding', () => {
  it('names the script position of a stack frame, without the directory', () => {
    expect(engineFinding("could not initialize '/work/script.js': ReferenceError: nope is not defined\n\tat file:///work/tmp/x/script.js:4:3(15)", 'script.js')).toEqual({
      code: 'engine-error',
      message: 'k6 could not load the script: ReferenceError: nope is not defined at script.js:4:3(15)',
      line: 4,
      column: 3,
    })
  })

  it('turns a parse error\'s 0-based column into a 1-based one', () => {
    expect(engineFinding('file:///a/b/script.ts: Line 2:0 Unexpected token', 'script.ts')).toMatchObject({ line: 2, column: 1 })
  })

  it('points at the start when k6 names no position', () => {
    expect(engineFinding('the number of VUs must be more than 0', 'script.js')).toMatchObject({ line: 1, column: 1, message: 'k6 could not load the script: the number of VUs must be more than 0' })
  })
})
