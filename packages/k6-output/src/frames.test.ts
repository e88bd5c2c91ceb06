import { describe, expect, it } from 'vitest'
import { binValue, mergeFrames, mergeSeries, parseFrames, quantile, seriesKey } from './frames.ts'
import type { Frame } from './frames.ts'

const GAMMA = 1.0080321285140563
const frame = (seq: number, series: Frame['series']): Frame => ({ v: 1, seq, start: seq * 1000, end: (seq + 1) * 1000, mapping: { kind: 'log', gamma: GAMMA }, series })

describe('frames', () => {
  it('parses complete lines only', () => {
    const text = `${JSON.stringify(frame(0, []))}\n${JSON.stringify(frame(1, []))}\n{"v":1,"se`
    expect(parseFrames(text).map((f) => f.seq)).toEqual([0, 1])
  })

  it('merges counters, rates, gauges and run-encoded bins', () => {
    const merged = mergeFrames([
      frame(0, [
        { metric: 'http_reqs', type: 'counter', count: 2, sum: 2, tags: { name: 'a', method: 'GET' } },
        { metric: 'checks', type: 'rate', count: 4, passes: 3 },
        { metric: 'vus', type: 'gauge', count: 1, min: 5, max: 5, last: 5, last_t: 900 },
        { metric: 'd', type: 'trend', count: 4, sum: 10, min: 1, max: 4, bins: { pos: [[0, 1, 0, 2], [173, 1]] } },
      ]),
      frame(1, [
        { metric: 'http_reqs', type: 'counter', count: 3, sum: 3, tags: { method: 'GET', name: 'a' } },
        { metric: 'checks', type: 'rate', count: 1, passes: 0 },
        { metric: 'vus', type: 'gauge', count: 1, min: 2, max: 2, last: 2, last_t: 1900 },
        { metric: 'd', type: 'trend', count: 1, sum: 0, min: 0, max: 0, bins: { zero: 1 } },
      ]),
    ])
    expect(merged.start).toBe(0)
    expect(merged.end).toBe(2000)
    expect(merged.series.get(seriesKey({ metric: 'http_reqs', tags: { name: 'a', method: 'GET' } }))).toMatchObject({ count: 5, sum: 5 })
    expect(merged.series.get(seriesKey({ metric: 'checks' }))).toMatchObject({ count: 5, passes: 3 })
    expect(merged.series.get(seriesKey({ metric: 'vus' }))).toMatchObject({ min: 2, max: 5, last: 2, last_t: 1900 })
    const d = merged.series.get(seriesKey({ metric: 'd' }))
    expect(d?.bins?.zero).toBe(1)
    expect([...(d?.bins?.pos ?? new Map()).entries()].sort((a, b) => a[0] - b[0])).toEqual([[0, 1], [2, 2], [173, 1]])
    // Values in rank order: 0, bin 0, bin 2, bin 2, bin 173 (4 lies in it; its value is clamped to max 4).
    expect(quantile(d!, merged.gamma, 0)).toBe(0)
    expect(quantile(d!, merged.gamma, 0.25)).toBeCloseTo(binValue(GAMMA, 0), 12)
    expect(quantile(d!, merged.gamma, 1)).toBe(4)
    expect(quantile(d!, merged.gamma, 0.875)).toBeCloseTo(binValue(GAMMA, 2) + (4 - binValue(GAMMA, 2)) * 0.5, 12)
  })

  it('merges loose series as a frame merge does, and nothing into nothing', () => {
    const parts: Frame['series'] = [
      { metric: 'd', type: 'trend', count: 4, sum: 10, min: 1, max: 4, bins: { pos: [[0, 1, 0, 2], [173, 1]] } },
      { metric: 'd', type: 'trend', count: 1, sum: 0, min: 0, max: 0, bins: { zero: 1 } },
    ]
    expect(mergeSeries(parts)).toEqual(mergeFrames(parts.map((s, i) => frame(i, [s]))).series.get(seriesKey({ metric: 'd' })))
    expect(mergeSeries([])).toBeUndefined()
  })

  it('refuses frames with another mapping or version', () => {
    expect(() => mergeFrames([frame(0, []), { ...frame(1, []), mapping: { kind: 'log', gamma: 1.02 } }])).toThrow(/mapping/)
    expect(() => mergeFrames([{ ...frame(0, []), v: 2 }])).toThrow(/version/)
  })
})
