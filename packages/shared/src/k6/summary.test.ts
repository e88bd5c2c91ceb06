import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { extractRunMetrics, parseSummary, thresholdActual, thresholdResults } from './summary.ts'
import { k6ErrorMessage } from './errors.ts'
import { statusForExitCode } from './exit-codes.ts'

const fixture = parseSummary(JSON.parse(readFileSync(new URL('./fixtures/summary-thresholds-crossed.json', import.meta.url), 'utf8')))

describe('k6 v2.2.0 summary export', () => {
  it('reads threshold booleans as "crossed" (true = failed)', () => {
    expect(thresholdResults(fixture)).toEqual([
      { metric: 'checks', expression: 'rate>0.9', ok: true, actual: 1 },
      { metric: 'http_req_duration', expression: 'max<1', ok: false, actual: 12.503041 },
      { metric: 'http_req_duration', expression: 'p(95)<500', ok: true, actual: 2.099943699999997 },
    ])
  })

  it('reads the measured value of each threshold\'s aggregation', () => {
    const counter = { count: 40, rate: 19.5 }
    expect(thresholdActual(counter, 'count>=40')).toBe(40)
    expect(thresholdActual(counter, 'rate > 10')).toBe(19.5)
    expect(thresholdActual({ value: 0.02, passes: 1, fails: 49 }, 'rate<0.05')).toBe(0.02)
    expect(thresholdActual({ 'p(99)': 12 }, 'p( 99 )<100')).toBe(12)
    expect(thresholdActual({ 'p(95)': 3 }, 'p(99.9)<100')).toBeNull()
    expect(thresholdActual({ avg: 3 }, 'nonsense')).toBeNull()
  })

  it('extracts the run metrics, including p(99) and the http_req_failed rate', () => {
    const m = extractRunMetrics(fixture)
    const raw = fixture.metrics
    expect(m.httpReqs).toBe(raw['http_reqs']?.count)
    expect(m.httpReqs).toBeGreaterThan(0)
    expect(m.httpReqFailedRate).toBe(0)
    expect(m.httpReqDurationP99).toBe(raw['http_req_duration']?.['p(99)'])
    expect(m.httpReqDurationP99).toBeGreaterThanOrEqual(m.httpReqDurationP95 ?? Infinity)
    expect(m.checksPassed).toBe(m.httpReqs)
    expect(m.checksFailed).toBe(0)
    expect(m.vusMax).toBe(2)
    expect(m.dataSent).toBeGreaterThan(0)
  })

  it('rejects a file that is not a summary', () => {
    expect(() => parseSummary({ metrics: 3 })).toThrow()
  })
})

describe('k6 exit codes', () => {
  it('maps 0 → passed, 99 → failed, anything else → error', () => {
    expect(statusForExitCode(0)).toBe('passed')
    expect(statusForExitCode(99)).toBe('failed')
    expect(statusForExitCode(107)).toBe('error')
    expect(statusForExitCode(108)).toBe('error')
    expect(statusForExitCode(null)).toBe('error')
  })
})

describe('k6 error lines', () => {
  it('extracts the message and hint of a script exception', () => {
    const line =
      'time="2026-11-23T22:08:36Z" level=error msg="Error: boom in init\\n\\tat file:///tmp/k6try/throw.js:2:7(13)\\n" hint="script exception" source=stacktrace'
    expect(k6ErrorMessage(line)).toBe('Error: boom in init\n\tat file:///tmp/k6try/throw.js:2:7(13) (script exception)')
    expect(k6ErrorMessage('time="x" level=info msg="hello" source=console')).toBeUndefined()
  })
})
