import { describe, expect, it } from 'vitest'
import { consoleTone, formatAgo, formatBytes, formatChecks, formatCount, formatDuration, formatElapsed, formatPercent, formatRate, formatThresholdActual } from './format.ts'

describe('format', () => {
  it('shows a metric k6 did not report as a dash, not as zero', () => {
    for (const f of [formatDuration, formatCount, formatRate, formatPercent, formatBytes, formatElapsed]) {
      expect(f(null)).toBe('—')
      expect(f(undefined)).toBe('—')
    }
    expect(formatDuration(0)).toBe('0.00 ms')
    expect(formatBytes(0)).toBe('0 B')
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

  it('shows data sizes in binary units', () => {
    expect(formatBytes(213)).toBe('213 B')
    expect(formatBytes(30_720)).toBe('30.0 KB')
    expect(formatBytes(5 * 1024 ** 2)).toBe('5.00 MB')
    expect(formatBytes(3 * 1024 ** 5)).toBe('3072.0 TB')
  })

  it('runs a clock in minutes and seconds, hours when needed', () => {
    expect(formatElapsed(0)).toBe('0:00')
    expect(formatElapsed(7_900)).toBe('0:07')
    expect(formatElapsed(750_000)).toBe('12:30')
    expect(formatElapsed(3_723_000)).toBe('1:02:03')
    expect(formatElapsed(-5)).toBe('0:00') // a clock a little ahead of the server's
  })

  it('counts checks as passed of total, and none as a dash', () => {
    expect(formatChecks(98, 2)).toBe('98 / 100')
    expect(formatChecks(3, null)).toBe('3 / 3')
    expect(formatChecks(null, null)).toBe('—')
    expect(formatChecks(0, 0)).toBe('—')
  })

  it('says how long ago coarsely', () => {
    const now = Date.parse('2026-03-10T12:00:00Z')
    expect(formatAgo('2026-03-10T11:59:30Z', now)).toBe('just now')
    expect(formatAgo('2026-03-10T11:55:00Z', now)).toBe('5 min ago')
    expect(formatAgo('2026-03-10T09:00:00Z', now)).toBe('3 h ago')
    expect(formatAgo('2026-03-09T12:00:00Z', now)).toBe('1 day ago')
    expect(formatAgo('2026-03-07T12:00:00Z', now)).toBe('3 days ago')
    expect(formatAgo('2026-01-01T00:00:00Z', now)).not.toMatch(/ago/)
    expect(formatAgo(null, now)).toBe('—')
  })
})

describe('consoleTone', () => {
  it('colours by k6 level, check and threshold marks, not by stream', () => {
    expect(consoleTone('time="t" level=info msg="GET / -> 200" source=console')).toBe('plain')
    expect(consoleTone('time="t" level=error msg="Error: boom" hint="script exception"')).toBe('error')
    expect(consoleTone('time="t" level=warning msg="The test run was short"')).toBe('warning')
    expect(consoleTone('    ✗ status is 200')).toBe('error')
    expect(consoleTone("    ✗ 'p(95)<1' p(95)=3.4ms")).toBe('error')
    expect(consoleTone('    ✓ status is 200')).toBe('ok')
    expect(consoleTone('  █ THRESHOLDS ')).toBe('heading')
    expect(consoleTone('default ✓ [ 100% ] 1 VUs  00m00.0s/10m0s  3/3 shared iters')).toBe('plain')
    expect(consoleTone('      ↳  0% — ✓ 0 / ✗ 3')).toBe('plain')
  })
})

describe('formatThresholdActual', () => {
  it('shows what k6 measured in the threshold\'s terms', () => {
    expect(formatThresholdActual('http_req_duration', 'p(95)<500', 2.0999)).toBe('2.1 ms')
    expect(formatThresholdActual('http_req_duration{status:200}', 'max<1000', 1250)).toBe('1.25 s')
    expect(formatThresholdActual('http_req_failed', 'rate<0.01', 0.02)).toBe('2.00%')
    expect(formatThresholdActual('checks', 'rate>0.9', 1)).toBe('100%')
    expect(formatThresholdActual('http_reqs', 'rate>10', 19.5)).toBe('19.5/s')
    expect(formatThresholdActual('http_reqs', 'count>=40', 40)).toBe('40')
    expect(formatThresholdActual('vus', 'value<10', 3)).toBe('3')
    expect(formatThresholdActual('http_req_duration', 'p(99.9)<5', null)).toBe('—')
  })
})
