import { describe, expect, it } from 'vitest'
import { isPlaceholderVersion, parseVersion, sameVersion } from './versions.ts'

describe('parseVersion', () => {
  it('reads k6 version lines', () => {
    expect(parseVersion('k6', 'k6 v2.2.0 (commit/devel, go1.26.8, linux/amd64)\n')).toBe('2.2.0')
    expect(parseVersion('k6', 'k6 v0.49.0 (go1.21.6, linux/amd64)\nExtensions:\n')).toBe('0.49.0')
    expect(parseVersion('k6', 'k6 v2.3.0-rc.1 (commit/abc)')).toBe('2.3.0-rc.1')
  })

  it('reads temporal version lines, including the unstamped dev build', () => {
    expect(parseVersion('temporal', 'temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)\n')).toBe('1.5.1')
    expect(parseVersion('temporal', 'temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)')).toBe('0.0.0-DEV')
  })

  it('does not mistake another tool or noise for a version', () => {
    expect(parseVersion('k6', 'temporal version 1.5.1')).toBeUndefined()
    expect(parseVersion('temporal', 'k6 v2.2.0')).toBeUndefined()
    expect(parseVersion('k6', 'command not found')).toBeUndefined()
  })
})

describe('version helpers', () => {
  it('recognises placeholders', () => {
    expect(isPlaceholderVersion('0.0.0-DEV')).toBe(true)
    expect(isPlaceholderVersion('(devel)')).toBe(true)
    expect(isPlaceholderVersion('1.5.1')).toBe(false)
  })
  it('compares with or without a leading v', () => {
    expect(sameVersion('v2.2.0', '2.2.0')).toBe(true)
    expect(sameVersion('2.2.1', '2.2.0')).toBe(false)
  })
})
