import { describe, expect, it } from 'vitest'
import { resultCards } from './results.ts'
import type { Run } from './run-detail.svelte.ts'

const metrics: Run['metrics'] = {
  httpReqs: 1200,
  httpReqFailedRate: 0.0125,
  httpReqRate: 40.04,
  iterations: 600,
  vusMax: 10,
  httpReqDuration: { avg: 50, min: 2, med: 42.4, max: 1534, p90: 88.2, p95: 120.6, p99: 480 },
  checksPassed: 1185,
  checksFailed: 15,
  dataSent: 213_000,
  dataReceived: 5 * 1024 ** 2,
}

const byLabel = (cards: ReturnType<typeof resultCards>) => Object.fromEntries(cards.map((c) => [c.label, c]))

describe('resultCards', () => {
  it('shows the latency percentiles k6 reported: p50 is the median', () => {
    const cards = byLabel(resultCards(metrics))
    expect(['p50', 'p90', 'p95', 'p99', 'max'].map((l) => cards[l]?.value)).toEqual(['42 ms', '88 ms', '121 ms', '480 ms', '1.53 s'])
  })

  it('shows traffic, load and data, and marks failures', () => {
    const cards = byLabel(resultCards(metrics))
    expect(cards['Requests']?.value).toBe('1,200')
    expect(cards['Request rate']?.value).toBe('40.0/s')
    expect(cards['Failure rate']).toMatchObject({ value: '1.25%', tone: 'bad' })
    expect(cards['Iterations']?.value).toBe('600')
    expect(cards['Max VUs']?.value).toBe('10')
    expect(cards['Data sent']?.value).toBe('208.0 KB')
    expect(cards['Data received']?.value).toBe('5.00 MB')
    expect(cards['Checks passed']).toMatchObject({ value: '1,185 / 1,200', tone: 'bad', hint: '15 failed' })
  })

  it('shows what k6 did not report as a dash, uncoloured', () => {
    const none = resultCards({
      httpReqs: null,
      httpReqFailedRate: null,
      httpReqRate: null,
      iterations: null,
      vusMax: null,
      httpReqDuration: { avg: null, min: null, med: null, max: null, p90: null, p95: null, p99: null },
      checksPassed: null,
      checksFailed: null,
      dataSent: null,
      dataReceived: null,
    })
    expect(none.every((c) => c.value === '—' && c.tone === undefined)).toBe(true)
  })

  it('marks a clean run as clean', () => {
    const cards = byLabel(resultCards({ ...metrics, httpReqFailedRate: 0, checksFailed: 0 }))
    expect(cards['Failure rate']?.tone).toBe('ok')
    expect(cards['Checks passed']).toMatchObject({ value: '1,185 / 1,185', tone: 'ok' })
  })
})
