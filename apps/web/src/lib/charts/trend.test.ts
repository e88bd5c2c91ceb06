import { describe, expect, it } from 'vitest'
import { niceCeil, scaleSeries, xOf, type ChartBox } from './trend.ts'

const box: ChartBox = { width: 110, height: 60, padding: { top: 10, right: 5, bottom: 10, left: 5 } }

describe('niceCeil', () => {
  it('rounds up to 1, 2, 2.5 or 5 times a power of ten', () => {
    expect([0.7, 1, 1.2, 2.2, 3, 7, 10, 180, 260, 0.03, 0.3].map(niceCeil)).toEqual([1, 1, 2, 2.5, 5, 10, 10, 200, 500, 0.05, 0.5])
  })

  it('has no axis for nothing, negatives or nonsense', () => {
    expect(niceCeil(0)).toBe(0)
    expect(niceCeil(-3)).toBe(0)
    expect(niceCeil(Number.NaN)).toBe(0)
    expect(niceCeil(Infinity)).toBe(0)
  })
})

describe('scaleSeries', () => {
  it('puts zero on the bottom edge and the nice maximum on the top edge, evenly spaced in x', () => {
    const s = scaleSeries([0, 40, 80], box)
    expect(s.max).toBe(100)
    expect(s.points.map((p) => [p.x, p.y])).toEqual([
      [5, 50],
      [55, 34],
      [105, 18],
    ])
    expect(s.path).toBe('M5 50 L55 34 L105 18')
  })

  it('breaks the line at a missing value instead of drawing it as zero', () => {
    const s = scaleSeries([10, null, 20, 20], box)
    expect(s.points.map((p) => p.index)).toEqual([0, 2, 3])
    expect(s.path).toMatch(/^M\S+ \S+ M\S+ \S+ L\S+ \S+$/)
  })

  it('centres a lone value and gives round ticks', () => {
    const s = scaleSeries([3.2], box, 4)
    expect(s.points).toEqual([{ index: 0, x: 55, y: 24.4, value: 3.2 }])
    expect(s.max).toBe(5)
    expect(s.ticks).toEqual([
      { value: 0, y: 50 },
      { value: 1.25, y: 40 },
      { value: 2.5, y: 30 },
      { value: 3.75, y: 20 },
      { value: 5, y: 10 },
    ])
  })

  it('draws nothing for a series without values, and keeps all-zero values on the baseline', () => {
    expect(scaleSeries([null, undefined], box)).toEqual({ points: [], path: '', max: 0, ticks: [] })
    expect(scaleSeries([], box).points).toEqual([])
    const zeros = scaleSeries([0, 0], box)
    expect(zeros.points.map((p) => p.y)).toEqual([50, 50])
    expect(zeros.ticks).toEqual([])
  })

  it('spreads x across the plot between the paddings', () => {
    expect(xOf(0, 5, box)).toBe(5)
    expect(xOf(4, 5, box)).toBe(105)
    expect(xOf(0, 1, box)).toBe(55)
  })
})
