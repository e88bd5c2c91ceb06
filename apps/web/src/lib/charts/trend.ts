// Geometry of a small trend chart drawn as inline SVG: values in order (oldest first) spread
// evenly across the width, each series scaled from 0 to a "nice" maximum (1, 2, 2.5 or 5 × 10ⁿ)
// so the axis labels are round numbers. A missing value (a run k6 reported nothing for) breaks
// the line rather than dropping to zero.

/** One run as a trend chart plots it. */
export interface TrendRun {
  id: string
  createdAt: string
  p95: number | null
  rate: number | null
}

export interface ChartBox {
  width: number
  height: number
  /** Space kept free around the plot for axis labels. */
  padding: { top: number; right: number; bottom: number; left: number }
}

export interface ScaledPoint {
  index: number
  x: number
  y: number
  value: number
}

export interface ScaledSeries {
  points: ScaledPoint[]
  /** SVG path data; `M` starts a new segment after a missing value. */
  path: string
  /** The axis maximum (0 when the series has no values). */
  max: number
  /** Round values from 0 to max, with their y. */
  ticks: { value: number; y: number }[]
}

/** The smallest "nice" number ≥ value: 1, 2, 2.5 or 5 × 10ⁿ. */
export function niceCeil(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 0
  const magnitude = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 2.5, 5, 10]) {
    const nice = step * magnitude
    // Rounding: 0.3 / 0.1 is 2.9999999999999996.
    if (nice >= value * (1 - 1e-12)) return Number(nice.toPrecision(12))
  }
  return 10 * magnitude
}

/** The x of the i-th of n values: evenly spread, a lone value in the middle. */
export function xOf(index: number, count: number, box: ChartBox): number {
  const left = box.padding.left
  const inner = box.width - box.padding.left - box.padding.right
  return count <= 1 ? left + inner / 2 : left + (inner * index) / (count - 1)
}

const round = (n: number) => Math.round(n * 100) / 100

export function scaleSeries(values: readonly (number | null | undefined)[], box: ChartBox, tickCount = 4): ScaledSeries {
  const present = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  const max = niceCeil(Math.max(0, ...present))
  const top = box.padding.top
  const bottom = box.height - box.padding.bottom
  const yOf = (v: number) => (max === 0 ? bottom : bottom - ((bottom - top) * Math.max(0, v)) / max)

  const points: ScaledPoint[] = []
  let path = ''
  let penDown = false
  values.forEach((value, index) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      penDown = false
      return
    }
    const point = { index, x: round(xOf(index, values.length, box)), y: round(yOf(value)), value }
    points.push(point)
    path += `${path ? ' ' : ''}${penDown ? 'L' : 'M'}${point.x} ${point.y}`
    penDown = true
  })

  const ticks = max === 0 ? [] : Array.from({ length: tickCount + 1 }, (_, i) => ({ value: Number(((max * i) / tickCount).toPrecision(12)), y: round(yOf((max * i) / tickCount)) }))
  return { points, path, max, ticks }
}
