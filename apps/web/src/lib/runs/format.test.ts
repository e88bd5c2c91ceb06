import { describe, expect, it } from 'vitest'
import { consoleTone, formatCount, formatDuration, formatPercent, formatRate } from './format.ts'

describe('format', () => {
  it('shows a metric k6 did not report as a dash, not as zero', () => {
    for (const f of [formatDuration, formatCount, formatRate, formatPercent]) {
      expect(f(null)).toBe('—')
      expect(f(undefined)).toBe('—')
    }
    expect(formatDuration(0)).toBe('0.00 ms')
  })

  it('picks a unit that keeps durations readable', () => {
    expect(formatDuration(0.42)).toBe('0.42 ms')
    expect(formatDuration(4.56)).toBe('4.6 ms')
    expect(formatDuration(245.4)).toBe('245 ms')
    expect(formatDuration(1534)).toBe('1.53 s')
    expect(formatDuration(125_000)).toBe('2 min 5 s')
  })

  it('shows small failure ratios precisely and large ones plainly', () => {
    expect(formatPercent(0)).toBe('0%')
    expect(formatPercent(0.0123)).toBe('1.23%')
    expect(formatPercent(0.5)).toBe('50%')
  })

  it('shows counts and rates', () => {
    expect(formatCount(12345)).toBe('12,345')
    expect(formatRate(3.14159)).toBe('3.14/s')
    expect(formatRate(152.26)).toBe('152.3/s')
  })
})

describe('consoleTone', () => {
  it('colours by k6 level and failed checks, not by stream', () => {
    expect(consoleTone('time="t" level=info msg="GET / -> 200" source=console')).toBe('plain')
    expect(consoleTone('time="t" level=error msg="Error: boom" hint="script exception"')).toBe('error')
    expect(consoleTone('time="t" level=warning msg="The test run was short"')).toBe('warning')
    expect(consoleTone('    ✗ status is 200')).toBe('error')
    expect(consoleTone('    ✓ status is 200')).toBe('plain')
  })
})
