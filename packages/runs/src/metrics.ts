// A run's metric frames (packages/k6-output/FRAMES.md) stored in Postgres for runs.metrics.
//
// The `metrics` artifact (metrics.ndjson.gz, one frame per second) is read as a stream and kept
// as three tables (prisma/schema.prisma): run_metrics (one row per run: what was read),
// run_metric_series (one row per series: a metric's total, a tag set or its overflow, with the
// series over the whole run once every frame is stored) and
// run_metric_chunks (one row per series and wall-clock minute: that minute's periods as arrays in
// a `json` document, with trends' p50–p99 per period computed from the bins at ingestion, the
// minute merged, and each period's bins). A query of an hour of a series reads 60 rows in one
// index range and parses 60 JSON documents instead of 3,600 rows.
//
// Ingestion is idempotent: a minute's row is only written once all its frames are read, with the
// same content for the same file, and every insert is ON CONFLICT DO NOTHING; a run whose frames
// are all stored (`complete`) is not read again. Memory is bounded: only the minute being read
// and one batch of rows are held. A damaged file (a cut gzip stream, a line that is not a frame)
// stores what it can and says what it could not in `problem`.
import { createHash, randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { FRAME_VERSION, mergeSeries, quantile, type Bins, type Frame, type MergedSeries, type MetricType, type Series } from '@stampede/k6-output'
import { pgQuery, type Db } from '@stampede/db'

/** A chunk holds the periods that start within one wall-clock minute. */
export const CHUNK_MS = 60_000

/** The quantiles runs.metrics gives for trends, per period and over a window. */
const QUANTILES = [
  ['p50', 0.5],
  ['p90', 0.9],
  ['p95', 0.95],
  ['p99', 0.99],
] as const
export type QuantileName = (typeof QUANTILES)[number][0]

const METRIC_TYPES: ReadonlySet<string> = new Set<MetricType>(['counter', 'gauge', 'rate', 'trend'])

/** The per-period fields a series of each type stores, after start, end and count. */
export const POINT_FIELDS: Record<MetricType, readonly PointField[]> = {
  counter: ['sum'],
  rate: ['passes'],
  gauge: ['min', 'max', 'last', 'last_t'],
  trend: ['sum', 'min', 'max', 'p50', 'p90', 'p95', 'p99'],
}
export type PointField = 'sum' | 'passes' | 'min' | 'max' | 'last' | 'last_t' | QuantileName

/**
 * One chunk's periods, as arrays of the same length (one entry per period, in time order);
 * `start` and `end` are milliseconds from the chunk's start (chunk_start), to keep rows small.
 */
export type ChunkPoints = { start: number[]; end: number[]; count: number[] } & Partial<Record<PointField, (number | null)[]>>

/** `v` to `digits` significant digits: quantiles are within 0.4 % (6 digits say all of it); sums lose only float noise at 12. */
export const roundTo = (v: number, digits: number): number => (Number.isFinite(v) && v !== 0 ? Number(v.toPrecision(digits)) : v)

/** A series' identity as stored: metric, type and the kept tags (or overflow). */
export interface SeriesMeta {
  key: string
  metric: string
  type: MetricType
  contains: string | null
  tags: Record<string, string> | null
  overflow: boolean
}

/**
 * The longest key (bytes) stored as written. The key is in a unique index, whose entries Postgres
 * caps at about 2.7 KB, and a script's tag values (a URL, a check's name) can be far longer.
 */
const MAX_PLAIN_KEY_BYTES = 1024

/**
 * The series' stored key: [metric, overflow, sorted [tag, value] pairs] as JSON (no NUL, unlike
 * seriesKey), or `sha256:<hex>` of that JSON when it is longer than MAX_PLAIN_KEY_BYTES. The key
 * only names the series within its run (ingestion finds it again by it); the metric and tags
 * columns hold all of it, and JSON always starts with `[`, so a hash never meets a written key.
 */
export function storedSeriesKey(s: Pick<Series, 'metric' | 'tags' | 'overflow'>): string {
  const tags = Object.entries(s.tags ?? {})
  // k6 writes tags sorted; sort only when they are not.
  if (tags.some(([k], i) => i > 0 && tags[i - 1]![0] > k)) tags.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const key = JSON.stringify([s.metric, s.overflow === true, tags])
  return Buffer.byteLength(key) <= MAX_PLAIN_KEY_BYTES ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`
}

export interface IngestResult {
  /** Frames (periods) read from the file. */
  frames: number
  series: number
  /** Chunk rows written (or already there). */
  chunks: number
  /** The file ended with k6's final frame. */
  final: boolean
  /** What could not be read, in a sentence; absent when the whole file was read. */
  problem?: string
  /** The run's frames were already stored by an earlier call: nothing was read. */
  alreadyStored?: boolean
}

export interface IngestOptions {
  /** Chunk rows per INSERT (default 200). */
  batchRows?: number
}

/**
 * Stores a run's metric frames from the gzipped NDJSON file (its bytes or a stream of them).
 * Returns what was read; never throws for a damaged file (a cut gzip stream, a bad line), only
 * for a database error (DatabaseQueryError) or an error of the source stream itself
 * (FrameSourceError), both worth a retry. A run that does not exist stores nothing.
 */
export async function ingestMetricFrames(db: Db, runId: string, source: Buffer | Uint8Array | Readable, opts: IngestOptions = {}): Promise<IngestResult> {
  const batchRows = opts.batchRows ?? 200
  const stored = () =>
    pgQuery<{ complete: boolean; periods: number; final: boolean; problem: string | null; series: string; chunks: string; last_chunk: string | null }>(db, {
      text: `SELECT m.complete, m.periods, m.final, m.problem,
                    (SELECT count(*) FROM run_metric_series s WHERE s.run_id = m.run_id) AS series,
                    (SELECT count(*) FROM run_metric_chunks c JOIN run_metric_series s ON s.id = c.series_id WHERE s.run_id = m.run_id) AS chunks,
                    (SELECT max(c.chunk_start) FROM run_metric_chunks c JOIN run_metric_series s ON s.id = c.series_id WHERE s.run_id = m.run_id) AS last_chunk
               FROM run_metrics m WHERE m.run_id = $1`,
      values: [runId],
    }).then((r) => r.rows[0])
  const prior = await stored()
  if (prior?.complete) {
    return { frames: prior.periods, series: Number(prior.series), chunks: Number(prior.chunks), final: prior.final, alreadyStored: true, ...(prior.problem ? { problem: prior.problem } : {}) }
  }
  if (!prior) {
    const created = await pgQuery(db, { text: 'INSERT INTO run_metrics (run_id) SELECT id FROM runs WHERE id = $1 ON CONFLICT DO NOTHING', values: [runId] })
    if (created.rowCount === 0) {
      const exists = await pgQuery(db, { text: 'SELECT 1 FROM run_metrics WHERE run_id = $1', values: [runId] })
      if (exists.rowCount === 0) return { frames: 0, series: 0, chunks: 0, final: false, problem: `run ${runId} does not exist` }
    }
  }

  // An earlier attempt that stopped part-way (a timeout, a lost connection) wrote whole minutes in
  // time order: every minute before the last one it wrote is complete, and is not built again.
  const resumeAt = prior?.last_chunk != null ? Number(prior.last_chunk) : undefined
  const writer = new ChunkWriter(db, runId, batchRows)
  const acc = new Accumulator(writer, resumeAt)
  const bad: { line: number; why: string }[] = []
  let badCount = 0
  let cut: string | undefined
  let lineNo = 0
  try {
    for await (const line of frameLines(source)) {
      lineNo++
      if (line.trim() === '') continue
      const frame = toFrame(line)
      const why = typeof frame === 'string' ? frame : await acc.add(frame)
      if (why !== undefined) {
        badCount++
        if (bad.length < 2) bad.push({ line: lineNo, why })
      }
    }
  } catch (err) {
    if (!(err instanceof DamagedFile)) throw err
    cut = err.message
  }
  await acc.finish()
  await writer.flush()

  const problems: string[] = []
  if (cut) problems.push(`the file is damaged (${cut}); the frames before the damage are stored`)
  if (badCount > 0) problems.push(`${badCount} line${badCount === 1 ? ' is' : 's are'} not a frame and ${badCount === 1 ? 'was' : 'were'} skipped (${bad.map((b) => `line ${b.line}: ${b.why}`).join('; ')})`)
  if (acc.late > 0) problems.push(`${acc.late} frame${acc.late === 1 ? '' : 's'} arrived after a later minute was stored and ${acc.late === 1 ? 'was' : 'were'} skipped`)
  const problem = problems.length > 0 ? truncate(`metric frames: ${problems.join('; ')}`, 500) : undefined
  await storeSeriesTotals(db, runId, acc.gamma)
  await pgQuery(db, {
    text: `UPDATE run_metrics SET periods = $2, start_ms = $3, end_ms = $4, gamma = $5, final = $6, complete = true, problem = $7, finished_at = now() WHERE run_id = $1`,
    values: [runId, acc.periods, acc.start ?? null, acc.end ?? null, acc.gamma ?? null, acc.final, problem ?? null],
  })
  const after = await stored()
  return { frames: acc.periods, series: Number(after?.series ?? 0), chunks: Number(after?.chunks ?? 0), final: acc.final, ...(problem ? { problem } : {}) }
}

/** Each series over the whole run (its chunks' totals merged), for runs.metrics without a window. */
async function storeSeriesTotals(db: Db, runId: string, gamma: number | undefined): Promise<void> {
  if (gamma === undefined) return
  const { rows } = await pgQuery<{ series_id: string; total: Series }>(db, {
    text: 'SELECT c.series_id, c.total FROM run_metric_chunks c JOIN run_metric_series s ON s.id = c.series_id WHERE s.run_id = $1',
    values: [runId],
  })
  const parts = new Map<string, Series[]>()
  for (const r of rows) {
    const list = parts.get(r.series_id)
    if (list) list.push(r.total)
    else parts.set(r.series_id, [r.total])
  }
  const totals = [...parts].map(([id, list]) => ({ id, total: unmerge(mergeSeries(list)!) }))
  await pgQuery(db, {
    text: `UPDATE run_metric_series s SET total = r.total FROM json_to_recordset($2::json) AS r(id uuid, total json) WHERE s.id = r.id AND s.run_id = $1`,
    values: [runId, JSON.stringify(totals)],
  })
}

const truncate = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`)

/** The gzip stream is cut or corrupt (a zlib error, not one of the source). */
class DamagedFile extends Error {}

/** Reading the source failed (e.g. the connection to storage broke): worth a retry. */
export class FrameSourceError extends Error {
  override readonly name = 'FrameSourceError'
  constructor(cause: unknown) {
    super(`reading the metric frames failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}

/** The file's complete lines (a last line without its newline is left out, as FRAMES.md says). */
async function* frameLines(source: Buffer | Uint8Array | Readable): AsyncGenerator<string> {
  const input = source instanceof Readable ? source : Readable.from([Buffer.from(source)])
  const gunzip = createGunzip()
  let sourceError: unknown
  input.on('error', (err) => {
    sourceError = err
    gunzip.destroy(err)
  })
  input.pipe(gunzip)
  gunzip.setEncoding('utf8')
  let rest = ''
  try {
    for await (const chunk of gunzip as AsyncIterable<string>) {
      rest += chunk
      let nl = rest.indexOf('\n')
      let from = 0
      while (nl >= 0) {
        yield rest.slice(from, nl)
        from = nl + 1
        nl = rest.indexOf('\n', from)
      }
      rest = rest.slice(from)
    }
  } catch (err) {
    if (sourceError !== undefined) throw new FrameSourceError(sourceError)
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && code.startsWith('Z_')) throw new DamagedFile(`gzip: ${(err as Error).message}`)
    throw err
  } finally {
    input.unpipe(gunzip)
    if (!(source instanceof Readable)) input.destroy()
  }
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const clean = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s)

function validBins(b: unknown): b is Bins {
  if (typeof b !== 'object' || b === null) return false
  const { zero, pos, neg } = b as Record<string, unknown>
  if (zero !== undefined && !isNum(zero)) return false
  for (const runs of [pos, neg]) {
    if (runs === undefined) continue
    if (!Array.isArray(runs)) return false
    for (const run of runs) if (!Array.isArray(run) || run.length < 2 || !run.every(isNum)) return false
  }
  return true
}

/** A line as a frame, or why it is not one. */
function toFrame(line: string): Frame | string {
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch (err) {
    return `not JSON (${(err as Error).message.slice(0, 80)})`
  }
  if (typeof json !== 'object' || json === null) return 'not a JSON object'
  const f = json as Record<string, unknown>
  if (f.v !== FRAME_VERSION) return `version ${JSON.stringify(f.v)}, want ${FRAME_VERSION}`
  if (!isNum(f.seq) || !isNum(f.start) || !isNum(f.end) || f.end < f.start) return 'no valid seq, start and end'
  const mapping = f.mapping as { kind?: unknown; gamma?: unknown } | undefined
  if (mapping?.kind !== 'log' || !isNum(mapping.gamma) || mapping.gamma <= 1) return 'no valid mapping'
  if (!Array.isArray(f.series)) return 'no series'
  for (const s of f.series as unknown[]) {
    if (typeof s !== 'object' || s === null) return 'a series is not an object'
    const r = s as Record<string, unknown>
    if (typeof r.metric !== 'string' || r.metric === '' || typeof r.type !== 'string' || !METRIC_TYPES.has(r.type) || !isNum(r.count)) return 'a series has no metric, type or count'
    for (const k of ['sum', 'passes', 'min', 'max', 'last', 'last_t'] as const) if (r[k] !== undefined && !isNum(r[k])) return `series ${r.metric}: ${k} is not a number`
    if (r.contains !== undefined && typeof r.contains !== 'string') return `series ${r.metric}: contains is not a string`
    if (r.tags !== undefined && (typeof r.tags !== 'object' || r.tags === null || Object.values(r.tags).some((v) => typeof v !== 'string'))) return `series ${r.metric}: tags are not strings`
    if (r.bins !== undefined && !validBins(r.bins)) return `series ${r.metric}: bins are not valid`
    r.metric = clean(r.metric)
    if (r.tags) r.tags = Object.fromEntries(Object.entries(r.tags as Record<string, string>).map(([k, v]) => [clean(k), clean(v)]))
  }
  return json as Frame
}

/** A period of one series: its raw series (more than one when frames of the same period are merged). */
interface Period {
  start: number
  end: number
  parts: Series[]
}

interface OpenSeries {
  meta: SeriesMeta
  periods: Map<number, Period>
}

/** The minute being read: its series' periods until a frame of a later minute arrives. */
class Accumulator {
  periods = 0
  start: number | undefined
  end: number | undefined
  gamma: number | undefined
  final = false
  /** Frames of a minute already written. */
  late = 0
  private chunkStart: number | undefined
  private open = new Map<string, OpenSeries>()
  private types = new Map<string, MetricType>()
  private seenPeriods = new Set<number>()

  constructor(
    private readonly writer: ChunkWriter,
    /** Minutes before this one are stored already (see ingestMetricFrames). */
    private readonly resumeAt: number | undefined,
  ) {}

  /** Adds a frame; returns why it was skipped, if it was. */
  async add(frame: Frame): Promise<string | undefined> {
    if (this.gamma !== undefined && frame.mapping.gamma !== this.gamma) return `mapping gamma ${frame.mapping.gamma} differs from ${this.gamma}`
    const keys = frame.series.map(storedSeriesKey)
    for (const [i, s] of frame.series.entries()) {
      const known = this.types.get(keys[i]!)
      if (known !== undefined && known !== s.type) return `series ${s.metric} is a ${s.type}, earlier a ${known}`
    }
    const chunkStart = Math.floor(frame.start / CHUNK_MS) * CHUNK_MS
    if (this.chunkStart !== undefined && chunkStart < this.chunkStart) {
      this.late++
      return undefined
    }
    if (this.chunkStart !== undefined && chunkStart > this.chunkStart) await this.closeChunk()
    this.chunkStart = chunkStart
    this.gamma = frame.mapping.gamma
    if (!this.seenPeriods.has(frame.start)) {
      this.seenPeriods.add(frame.start)
      this.periods++
    }
    this.start = Math.min(this.start ?? frame.start, frame.start)
    this.end = Math.max(this.end ?? frame.end, frame.end)
    if (frame.final) this.final = true
    const skip = this.resumeAt !== undefined && chunkStart < this.resumeAt
    for (const [i, s] of frame.series.entries()) {
      const key = keys[i]!
      this.types.set(key, s.type)
      if (skip) continue
      let open = this.open.get(key)
      if (!open) {
        open = { meta: { key, metric: s.metric, type: s.type, contains: s.contains ?? null, tags: s.tags && Object.keys(s.tags).length > 0 ? s.tags : null, overflow: s.overflow === true }, periods: new Map() }
        this.open.set(key, open)
      }
      const period = open.periods.get(frame.start)
      if (period) {
        period.parts.push(s)
        period.end = Math.max(period.end, frame.end)
      } else {
        open.periods.set(frame.start, { start: frame.start, end: frame.end, parts: [s] })
      }
    }
    return undefined
  }

  async finish(): Promise<void> {
    await this.closeChunk()
  }

  private async closeChunk(): Promise<void> {
    if (this.chunkStart === undefined || this.gamma === undefined) return
    const gamma = this.gamma
    for (const open of this.open.values()) this.writer.add(chunkRow(open, this.chunkStart, gamma))
    this.open.clear()
    // Periods are counted once each; a minute once written is not read again.
    this.seenPeriods.clear()
    await this.writer.maybeFlush()
  }
}

/** A merged series back in the file's form (bins as runs of neighbouring bins). */
function unmerge(m: MergedSeries): Series {
  const { bins, ...rest } = m
  return bins ? { ...rest, bins: encodeBins(bins) } : rest
}

function encodeBins(b: NonNullable<MergedSeries['bins']>): Bins {
  const out: Bins = {}
  if (b.zero > 0) out.zero = b.zero
  const pos = binRuns(b.pos)
  if (pos.length > 0) out.pos = pos
  const neg = binRuns(b.neg)
  if (neg.length > 0) out.neg = neg
  return out
}

/** Bin counts as runs [firstIndex, count, …], gaps of up to 3 empty bins written as zeros. */
function binRuns(counts: Map<number, number>): number[][] {
  const runs: number[][] = []
  let run: number[] | undefined
  let next = 0
  for (const i of [...counts.keys()].sort((a, b) => a - b)) {
    const c = counts.get(i) ?? 0
    if (run && i - next <= 3) {
      for (; next < i; next++) run.push(0)
      run.push(c)
    } else {
      run = [i, c]
      runs.push(run)
    }
    next = i + 1
  }
  return runs
}

/** The quantiles of a merged trend series (the reader's quantile, from the bins). */
function quantilesOf(m: MergedSeries, gamma: number): Record<QuantileName, number | null> {
  const out = {} as Record<QuantileName, number | null>
  for (const [name, q] of QUANTILES) {
    const v = quantile(m, gamma, q)
    out[name] = v === undefined ? null : roundTo(v, 6)
  }
  return out
}

interface ChunkRow {
  meta: SeriesMeta
  chunk_start: number
  first_start: number
  last_start: number
  last_end: number
  periods: number
  points: ChunkPoints
  total: Series
  bins: (Bins | null)[] | null
}

function chunkRow(open: OpenSeries, chunkStart: number, gamma: number): ChunkRow {
  const { meta } = open
  const periods = [...open.periods.values()].sort((a, b) => a.start - b.start)
  const fields = POINT_FIELDS[meta.type]
  const points: ChunkPoints = { start: [], end: [], count: [] }
  for (const f of fields) points[f] = []
  const bins: (Bins | null)[] | null = meta.type === 'trend' ? [] : null
  const all: Series[] = []
  for (const p of periods) {
    const one = p.parts.length === 1 ? p.parts[0]! : unmerge(mergeSeries(p.parts)!)
    all.push(one)
    points.start.push(p.start - chunkStart)
    points.end.push(p.end - chunkStart)
    points.count.push(one.count)
    let qs: Record<QuantileName, number | null> | undefined
    if (meta.type === 'trend') {
      qs = quantilesOf(mergeSeries([one])!, gamma)
      bins!.push(one.bins ?? null)
    }
    for (const f of fields) {
      const v = f === 'p50' || f === 'p90' || f === 'p95' || f === 'p99' ? qs?.[f] : f === 'sum' && meta.type === 'trend' && one.sum !== undefined ? roundTo(one.sum, 12) : one[f]
      points[f]!.push(v ?? null)
    }
  }
  const total = unmerge(mergeSeries(all)!)
  return {
    meta,
    chunk_start: chunkStart,
    first_start: periods[0]!.start,
    last_start: periods.at(-1)!.start,
    last_end: Math.max(...periods.map((p) => p.end)),
    periods: periods.length,
    points,
    total: { ...total, metric: meta.metric, type: meta.type },
    bins,
  }
}

/** Writes chunk rows in batches, creating their series first (both ON CONFLICT DO NOTHING). */
class ChunkWriter {
  private ids = new Map<string, string>()
  private pending: ChunkRow[] = []
  private inFlight: Promise<void> = Promise.resolve()

  constructor(
    private readonly db: Db,
    private readonly runId: string,
    private readonly batchRows: number,
  ) {}

  add(row: ChunkRow): void {
    this.pending.push(row)
  }

  /**
   * Starts writing the pending rows once a batch is full, while the next minute is read: at most
   * one write is in flight (the previous one is awaited first), so memory stays at two batches.
   */
  async maybeFlush(): Promise<void> {
    if (this.pending.length < this.batchRows) return
    await this.inFlight
    const batch = this.pending.splice(0, this.pending.length)
    this.inFlight = this.write(batch)
    // A failed write is thrown by the next maybeFlush or flush; until then it must not be unhandled.
    this.inFlight.catch(() => {})
  }

  /** Writes everything pending and waits for every write. */
  async flush(): Promise<void> {
    await this.inFlight
    await this.write(this.pending.splice(0, this.pending.length))
  }

  private async write(rowsToWrite: ChunkRow[]): Promise<void> {
    for (let at = 0; at < rowsToWrite.length; at += this.batchRows) {
      const batch = rowsToWrite.slice(at, at + this.batchRows)
      await this.ensureSeries(batch.map((r) => r.meta))
      const rows = batch.map((r) => ({
        series_id: this.ids.get(r.meta.key)!,
        chunk_start: r.chunk_start,
        first_start: r.first_start,
        last_start: r.last_start,
        last_end: r.last_end,
        periods: r.periods,
        points: r.points,
        total: r.total,
        bins: r.bins,
      }))
      await pgQuery(this.db, {
        text: `INSERT INTO run_metric_chunks (series_id, chunk_start, first_start, last_start, last_end, periods, points, total, bins)
               SELECT series_id, chunk_start, first_start, last_start, last_end, periods, points, total, bins
                 FROM json_to_recordset($1::json) AS r(series_id uuid, chunk_start bigint, first_start bigint, last_start bigint, last_end bigint, periods int, points json, total json, bins json)
               ON CONFLICT DO NOTHING`,
        values: [JSON.stringify(rows)],
      })
    }
  }

  private async ensureSeries(metas: SeriesMeta[]): Promise<void> {
    const fresh = new Map<string, SeriesMeta>()
    for (const m of metas) if (!this.ids.has(m.key)) fresh.set(m.key, m)
    if (fresh.size === 0) return
    const rows = [...fresh.values()].map((m) => ({ id: randomUUID(), key: m.key, metric: m.metric, type: m.type, contains: m.contains, tags: m.tags, overflow: m.overflow }))
    await pgQuery(this.db, {
      text: `INSERT INTO run_metric_series (id, run_id, key, metric, type, contains, tags, overflow)
             SELECT id, $1::uuid, key, metric, type, contains, tags, overflow
               FROM json_to_recordset($2::json) AS r(id uuid, key text, metric text, type text, contains text, tags jsonb, overflow boolean)
             ON CONFLICT (run_id, key) DO NOTHING`,
      values: [this.runId, JSON.stringify(rows)],
    })
    // The ids as stored: an earlier attempt may have created some of these series.
    const stored = await pgQuery<{ id: string; key: string }>(this.db, {
      text: 'SELECT id, key FROM run_metric_series WHERE run_id = $1 AND key = ANY($2::text[])',
      values: [this.runId, [...fresh.keys()]],
    })
    for (const r of stored.rows) this.ids.set(r.key, r.id)
  }
}

// ---- Reading: what runs.metrics needs to total a window ----

/** A window's total of one series: what k6's summary would show for those periods. */
export interface SeriesTotal {
  count: number
  sum?: number
  passes?: number
  /** passes / count, for rates. */
  rate?: number | null
  min?: number | null
  max?: number | null
  avg?: number | null
  last?: number | null
  p50?: number | null
  p90?: number | null
  p95?: number | null
  p99?: number | null
}

/** Merges parts of one series (whole chunks' totals and single periods) into the window's total. */
export function totalOf(type: MetricType, parts: Series[], gamma: number): SeriesTotal {
  const m = parts.length > 0 ? mergeSeries(parts) : undefined
  const count = m?.count ?? 0
  switch (type) {
    case 'counter':
      return { count, sum: m?.sum ?? 0 }
    case 'rate':
      return { count, passes: m?.passes ?? 0, rate: count > 0 ? (m?.passes ?? 0) / count : null }
    case 'gauge':
      return { count, min: m?.min ?? null, max: m?.max ?? null, last: m?.last ?? null }
    case 'trend': {
      const sum = roundTo(m?.sum ?? 0, 12)
      return { count, sum, min: m?.min ?? null, max: m?.max ?? null, avg: count > 0 ? roundTo(sum / count, 12) : null, ...(m ? quantilesOf(m, gamma) : { p50: null, p90: null, p95: null, p99: null }) }
    }
  }
}

/** Period `i` of a chunk's points (with its bins) as a raw series, to total part of a chunk. */
export function periodSeries(meta: Pick<SeriesMeta, 'metric' | 'type'>, points: ChunkPoints, bins: (Bins | null)[] | null, i: number): Series {
  const s: Series = { metric: meta.metric, type: meta.type, count: points.count[i] ?? 0 }
  for (const f of POINT_FIELDS[meta.type]) {
    if (f === 'p50' || f === 'p90' || f === 'p95' || f === 'p99') continue
    const v = points[f]?.[i]
    if (v !== null && v !== undefined) s[f] = v
  }
  const b = bins?.[i]
  if (b) s.bins = b
  return s
}

/**
 * One series' values lined up with a runs.metrics answer's periods (one entry per period): `count`
 * is 0 and every other field null in a period where the series had no samples.
 */
export type MetricPoints = { count: number[] } & Partial<Record<PointField, (number | null)[]>> & { bins?: (Bins | null)[] }

/**
 * A series' periods in one stored chunk (a minute, `at` its chunk_start): all of them (`only`
 * null, a chunk wholly inside the window) or those at the indexes in `only` (a chunk the window cuts).
 */
export interface ChunkSegment {
  at: number
  points: ChunkPoints
  bins: (Bins | null)[] | null
  only: number[] | null
}

export interface LinedUp {
  /** The periods in which any of the series has samples, [start, end) in Unix ms, in time order. */
  periods: { start: number[]; end: number[] }
  /** Each series' values, in the order given, aligned with `periods`. */
  points: MetricPoints[]
}

/**
 * Lines several series' chunk segments (each series' in time order) up on one time axis: the
 * periods in which any of them has samples (a period's end is the latest any series gives it),
 * and per series its values in every period of that axis.
 *
 * The usual case (every series has samples in the same periods, e.g. a run's totals) costs one
 * comparison per period and series and one array copy per field: the axis is read off the
 * chunks' own arrays, minute by minute, and each series' arrays are the chunks' arrays joined.
 * Series with samples in fewer periods are placed period by period.
 */
export function lineUpSeries(series: readonly { type: MetricType; segments: readonly ChunkSegment[] }[], withBins: boolean): LinedUp {
  const periods = chunkAxis(series) ?? unionAxis(series)
  const n = periods.start.length
  let position: Map<number, number> | undefined
  const points = series.map(({ type, segments }): MetricPoints => {
    const fields = POINT_FIELDS[type]
    const bins = withBins && type === 'trend'
    let count = 0
    for (const g of segments) count += g.only?.length ?? g.points.start.length
    if (count === n) {
      // In every period of the axis (in the same order: both are in time order).
      const out: MetricPoints = { count: joined(segments, (g) => g.points.count, 0) }
      for (const f of fields) out[f] = joined(segments, (g) => g.points[f], null)
      if (bins) out.bins = joined(segments, (g) => g.bins ?? undefined, null)
      return out
    }
    position ??= new Map(periods.start.map((start, i) => [start, i]))
    const out: MetricPoints = { count: new Array<number>(n).fill(0) }
    const columns = fields.map((f) => (out[f] = new Array<number | null>(n).fill(null)))
    if (bins) out.bins = new Array<Bins | null>(n).fill(null)
    for (const { at, points: p, bins: b, only } of segments) {
      const sources = fields.map((f) => p[f] ?? [])
      for (const i of only ?? p.start.keys()) {
        const k = position.get(at + p.start[i]!)!
        out.count[k] = p.count[i]!
        for (let f = 0; f < columns.length; f++) columns[f]![k] = sources[f]![i] ?? null
        if (out.bins) out.bins[k] = b?.[i] ?? null
      }
    }
    return out
  })
  return { periods, points }
}

/** One column of a series' segments joined: whole chunks' arrays as they are, cut ones' entries at `only`. */
function joined<T>(segments: readonly ChunkSegment[], column: (g: ChunkSegment) => readonly T[] | undefined, missing: T): T[] {
  const parts: (readonly T[])[] = []
  for (const g of segments) {
    const from = column(g)
    if (g.only) parts.push(g.only.map((i) => from?.[i] ?? missing))
    else if (from) parts.push(from)
    else parts.push(new Array<T>(g.points.start.length).fill(missing))
  }
  return ([] as T[]).concat(...parts)
}

/**
 * The axis read off the chunks: per minute, the periods of the first series' segment, when every
 * other series' segment of that minute has the very same periods (starts and ends) and they are
 * in time order; undefined (work it out period by period) when they differ anywhere.
 */
function chunkAxis(series: readonly { segments: readonly ChunkSegment[] }[]): LinedUp['periods'] | undefined {
  const minutes = new Map<number, { start: readonly number[]; end: readonly number[] }>()
  for (const { segments } of series) {
    for (const g of segments) {
      const start = g.only ? g.only.map((i) => g.points.start[i]!) : g.points.start
      const end = g.only ? g.only.map((i) => g.points.end[i]!) : g.points.end
      const known = minutes.get(g.at)
      if (!known) minutes.set(g.at, { start, end })
      else if (!sameNumbers(known.start, start) || !sameNumbers(known.end, end)) return undefined
    }
  }
  const out: LinedUp['periods'] = { start: [], end: [] }
  let last = -Infinity
  for (const at of [...minutes.keys()].sort((a, b) => a - b)) {
    const { start, end } = minutes.get(at)!
    for (let i = 0; i < start.length; i++) {
      const s = at + start[i]!
      // Out of order or twice (not as chunks are written): leave it to the general way.
      if (!(s > last) || end[i] === undefined) return undefined
      last = s
      out.start.push(s)
      out.end.push(at + end[i]!)
    }
  }
  return out
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The axis period by period: every start any series has, in time order, each with its latest end. */
function unionAxis(series: readonly { segments: readonly ChunkSegment[] }[]): LinedUp['periods'] {
  const ends = new Map<number, number>()
  for (const { segments } of series) {
    for (const { at, points: p, only } of segments) {
      for (const i of only ?? p.start.keys()) {
        const start = at + p.start[i]!
        const end = at + p.end[i]!
        const known = ends.get(start)
        if (known === undefined || end > known) ends.set(start, end)
      }
    }
  }
  const start = [...ends.keys()].sort((a, b) => a - b)
  return { start, end: start.map((s) => ends.get(s)!) }
}
