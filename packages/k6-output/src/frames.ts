// Reading and merging Stampede metric frames (FRAMES.md) in TypeScript: the same rules as the
// Go package `frame`. Hand-written rather than built on a DDSketch library: a reader only needs
// to add counts per bin index and map an index to its value (one formula), and must follow
// this format's run encoding and k6's percentile interpolation exactly.

export const FRAME_VERSION = 1

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend'

export interface Bins {
  zero?: number
  /** Runs of neighbouring bins: [firstIndex, count, count, …]. */
  pos?: number[][]
  neg?: number[][]
}

export interface Series {
  metric: string
  type: MetricType
  contains?: string
  tags?: Record<string, string>
  overflow?: boolean
  count: number
  sum?: number
  passes?: number
  min?: number
  max?: number
  last?: number
  last_t?: number
  bins?: Bins
}

export interface Frame {
  v: number
  seq: number
  start: number
  end: number
  final?: boolean
  mapping: { kind: 'log'; gamma: number }
  series: Series[]
}

/** Parse an NDJSON frames file (a trailing partial line, from a frame being written, is skipped). */
export function parseFrames(text: string): Frame[] {
  const lines = text.split('\n')
  const complete = text.endsWith('\n') ? lines : lines.slice(0, -1)
  return complete.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Frame)
}

export function seriesKey(s: Pick<Series, 'metric' | 'tags' | 'overflow'>): string {
  const tags = Object.entries(s.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return [s.metric + (s.overflow ? '\0overflow' : ''), ...tags.map(([k, v]) => `${k}=${v}`)].join('\0')
}

/** A merged series: bins as maps from index to count. */
export interface MergedSeries extends Omit<Series, 'bins'> {
  bins?: { zero: number; pos: Map<number, number>; neg: Map<number, number> }
}

export interface Merged {
  start: number
  end: number
  gamma: number
  series: Map<string, MergedSeries>
}

/** Merge frames of any periods and any k6 instances. */
export function mergeFrames(frames: Frame[]): Merged {
  let gamma: number | undefined
  const out: Merged = { start: Infinity, end: -Infinity, gamma: 0, series: new Map() }
  for (const f of frames) {
    if (f.v !== FRAME_VERSION) throw new Error(`frame ${f.seq}: version ${f.v}, want ${FRAME_VERSION}`)
    if (f.mapping.kind !== 'log' || (gamma !== undefined && f.mapping.gamma !== gamma)) {
      throw new Error(`frame ${f.seq}: mapping ${JSON.stringify(f.mapping)} differs from gamma ${gamma}`)
    }
    gamma = f.mapping.gamma
    out.start = Math.min(out.start, f.start)
    out.end = Math.max(out.end, f.end)
    for (const s of f.series) {
      const key = seriesKey(s)
      let cur = out.series.get(key)
      if (!cur) {
        cur = emptyLike(s)
        out.series.set(key, cur)
      }
      mergeInto(cur, s)
    }
  }
  out.gamma = gamma ?? 0
  return out
}

/** Several series of one identity (periods, instances, or tag sets to add up) merged into one; undefined for none. */
export function mergeSeries(parts: readonly Series[]): MergedSeries | undefined {
  const [first] = parts
  if (!first) return undefined
  const out = emptyLike(first)
  for (const s of parts) mergeInto(out, s)
  return out
}

/** A merged series with `s`'s identity and nothing in it yet. */
function emptyLike(s: Series): MergedSeries {
  return { metric: s.metric, type: s.type, count: 0, ...(s.contains ? { contains: s.contains } : {}), ...(s.tags ? { tags: s.tags } : {}), ...(s.overflow ? { overflow: true } : {}) }
}

function mergeInto(a: MergedSeries, b: Series): void {
  if (a.type !== b.type) throw new Error(`${b.metric}: cannot merge ${a.type} with ${b.type}`)
  a.count += b.count
  if (b.sum !== undefined) a.sum = (a.sum ?? 0) + b.sum
  if (b.passes !== undefined) a.passes = (a.passes ?? 0) + b.passes
  if (b.min !== undefined) a.min = a.min === undefined ? b.min : Math.min(a.min, b.min)
  if (b.max !== undefined) a.max = a.max === undefined ? b.max : Math.max(a.max, b.max)
  if (b.last !== undefined) {
    const bt = b.last_t ?? 0
    const at = a.last_t ?? 0
    if (a.last === undefined || bt > at || (bt === at && b.last > a.last)) {
      a.last = b.last
      a.last_t = bt
    }
  }
  if (b.bins) {
    a.bins ??= { zero: 0, pos: new Map(), neg: new Map() }
    a.bins.zero += b.bins.zero ?? 0
    addRuns(a.bins.pos, b.bins.pos)
    addRuns(a.bins.neg, b.bins.neg)
  }
}

function addRuns(into: Map<number, number>, runs: number[][] | undefined): void {
  for (const run of runs ?? []) {
    const first = run[0]
    if (first === undefined || run.length < 2) throw new Error(`bin run ${JSON.stringify(run)} has no counts`)
    for (let k = 1; k < run.length; k++) {
      const c = run[k] ?? 0
      if (c > 0) into.set(first + k - 1, (into.get(first + k - 1) ?? 0) + c)
    }
  }
}

/** Representative value of positive bin i: gamma^i * 2*gamma/(1+gamma). */
export function binValue(gamma: number, i: number): number {
  return Math.exp(i * Math.log(gamma)) * ((2 * gamma) / (1 + gamma))
}

function valueAtRank(s: MergedSeries, gamma: number, rank: number): number {
  const bins = s.bins
  if (!bins) return 0
  let seen = 0
  const neg = [...bins.neg.keys()].sort((x, y) => y - x)
  for (const i of neg) {
    seen += bins.neg.get(i) ?? 0
    if (seen > rank) return -binValue(gamma, i)
  }
  seen += bins.zero
  if (seen > rank) return 0
  const pos = [...bins.pos.keys()].sort((x, y) => x - y)
  for (const i of pos) {
    seen += bins.pos.get(i) ?? 0
    if (seen > rank) return binValue(gamma, i)
  }
  const last = pos[pos.length - 1]
  return last === undefined ? 0 : binValue(gamma, last)
}

/** The q-quantile (0..1) of a trend series, computed the way k6's summary does (interpolating
 * between the order statistics around q*(count-1)), from the bins, clamped to [min, max]. */
export function quantile(s: MergedSeries, gamma: number, q: number): number | undefined {
  if (!s.bins || s.count === 0 || s.min === undefined || s.max === undefined) return undefined
  const { min, max } = s
  const rank = q * (s.count - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  const clamp = (v: number): number => Math.max(min, Math.min(max, v))
  const vlo = clamp(valueAtRank(s, gamma, lo))
  const vhi = hi === lo ? vlo : clamp(valueAtRank(s, gamma, hi))
  return vlo + (vhi - vlo) * (rank - lo)
}
