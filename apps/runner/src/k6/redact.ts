// Masks secret values in k6's output before it is heartbeated, relayed or archived. Each line is
// redacted whole, so a secret split across two lines is not caught. Besides the value itself,
// values of 4+ characters are also masked in the encoded forms a script is likely to print
// (URL-encoded, base64, JSON-escaped, also as Go escapes it). An empty value is never searched for.
//
// The files k6 writes (summary, HTML report, metric frames, raw samples) carry check and group
// names, tags, URLs and metric names, all of which come from the script: they are masked too, in
// the encodings those files use, before they are uploaded. The metric frames are masked as they
// are packed (packFrames, spool.ts: the plain NDJSON through maskNdjson, then gzipped once);
// redactArtifacts masks the others.
import { createReadStream, createWriteStream } from 'node:fs'
import { lstat, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { constants as zlibConstants, createGunzip, createGzip, gunzip, gzip } from 'node:zlib'
import { OUTPUT_FILES } from './command.ts'

export const SECRET_MASK = '[secret]'

export interface Redact {
  (text: string): string
  /** The strings it masks, longest first; none when the run has no secrets (it then changes nothing). */
  readonly needles: readonly string[]
}

export function secretRedactor(values: Iterable<string>): Redact {
  const needles = new Set<string>()
  for (const v of values) {
    if (v === '') continue
    needles.add(v)
    if (v.length < 4) continue
    const bytes = Buffer.from(v, 'utf8')
    const json = JSON.stringify(v).slice(1, -1)
    // Go's encoder (k6's JSON outputs) also escapes &, <, > and U+2028/2029: a line holding the
    // secret only in that form is still found.
    const goJson = json.replace(/[&<>\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    for (const form of [encodeURIComponent(v), bytes.toString('base64'), bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64url'), json, goJson]) {
      if (form.length >= 4) needles.add(form)
    }
  }
  // Longest first, so a secret containing another is masked whole.
  const ordered = [...needles].sort((a, b) => b.length - a.length)
  const redact = (text: string) => {
    let out = text
    for (const n of ordered) if (out.includes(n)) out = out.split(n).join(SECRET_MASK)
    return out
  }
  return Object.assign(redact, { needles: ordered })
}

const holdsSecret = (text: string, redact: Redact) => redact.needles.some((n) => text.includes(n))

/** `value` with every string in it (object keys included) redacted. */
export function redactJson(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value)
  if (Array.isArray(value)) return value.map((v) => redactJson(v, redact))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactJson(v, redact)]))
  }
  return value
}

/**
 * One JSON text (an NDJSON line) with secrets masked in its strings and keys, still valid JSON.
 * Masking the text is enough when the result parses and holds no escape (a reader then decodes
 * exactly the masked text). Otherwise it is parsed and its strings masked: a secret written with
 * escapes (Go's encoder writes `&` as `\u0026`), or next to JSON's quotes, is found and the JSON
 * stays valid; numbers (measurements) are left as they are. Text that is not JSON (a line cut off
 * when k6 was killed) is masked as text.
 */
function redactJsonText(text: string, redact: Redact): string {
  if (!holdsSecret(text, redact)) return text
  const masked = redact(text)
  if (!masked.includes('\\') && isJson(masked)) return masked
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return masked
  }
  return JSON.stringify(redactJson(value, redact))
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

export interface RedactArtifactsOptions {
  /** Says what masking each file cost (the runner's log). */
  log?: (message: string) => void
}

/** What the run's console says when an artifact was not stored because it could not be checked. */
export const NOT_STORED = {
  summary: 'the summary (summary.json) was not stored: it could not be checked for secrets',
  report: 'the HTML report was not stored: it could not be checked for secrets (its data is not in the format of k6 v2.2.0\'s report)',
  /** When packing the frames (masking them, then gzip) failed: they are removed rather than stored unmasked. */
  metrics: (why: string) => `the metric frames (metrics.ndjson.gz) were not stored: they could not be checked for secrets and compressed (${why})`,
  samples: 'the raw samples (samples.json.gz) were not stored: they could not be checked for secrets (they could not be decompressed)',
  /** When masking itself failed (e.g. the disk is full). */
  failed: (file: string) => `${file} was not stored: masking secrets in it failed`,
} as const

/**
 * Masks secrets in the artifacts k6 wrote into the run's directory `dir`, in place, before they
 * are uploaded: summary.json, report.html (inside its embedded data too) and the raw samples
 * (samples.json.gz, which k6 gzips itself: streamed through gunzip, the mask and gzip). The metric
 * frames are not among them: packFrames masks them before it compresses them, so they are
 * compressed once. Does nothing when the run has no secrets. An artifact that cannot be checked
 * (a report in a format this code does not know, a corrupt gzip) is removed rather than stored;
 * the returned lines say so, for the run's console. Never throws for a file's content.
 */
export async function redactArtifacts(dir: string, redact: Redact, opts: RedactArtifactsOptions = {}): Promise<string[]> {
  if (redact.needles.length === 0) return []
  const log = opts.log ?? (() => {})
  const notices: string[] = []
  const jobs = [
    [OUTPUT_FILES.summary, redactSummaryFile, NOT_STORED.summary],
    [OUTPUT_FILES.report, redactReportFile, NOT_STORED.report],
    [OUTPUT_FILES.samples, redactSamplesFile, NOT_STORED.samples],
  ] as const
  for (const [name, mask, unchecked] of jobs) {
    const file = path.join(dir, name)
    const stats = await lstat(file).catch(() => undefined)
    if (!stats || stats.size === 0) continue
    const started = performance.now()
    let notice: string | undefined
    try {
      // Only regular files are read: anything else is not something k6 wrote.
      if (!stats.isFile() || !(await mask(file, redact))) notice = unchecked
    } catch (err) {
      notice = NOT_STORED.failed(name)
      log(`masking secrets in ${name} failed: ${redact(err instanceof Error ? err.message : String(err))}`)
    }
    if (notice !== undefined) {
      await rm(file, { force: true })
      notices.push(notice)
    }
    log(`${name} (${(stats.size / 1e6).toFixed(1)} MB) ${notice === undefined ? 'checked for secrets' : 'removed: it could not be checked for secrets'} in ${((performance.now() - started) / 1000).toFixed(2)} s`)
  }
  return notices
}

/** Rewrites k6's summary export with secrets masked. */
async function redactSummaryFile(file: string, redact: Redact): Promise<boolean> {
  const text = await readFile(file, 'utf8')
  if (!holdsSecret(text, redact)) return true
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // Not JSON (k6 died mid-write): masking the text is the best left to do.
    await writeFile(file, redact(text))
    return true
  }
  await writeFile(file, JSON.stringify(redactJson(json, redact), null, 2))
  return true
}

// k6 v2.2.0's HTML report (internal/dashboard/report.go) is a fixed page with the run's data
// injected as the content of this one element: the dashboard's events as NDJSON
// ({"event": …, "data": …} per line), gzipped, then base64 (standard alphabet, padded).
export const REPORT_DATA_TAG = '<script id="data" type="application/json; charset=utf-8; gzip; base64">'
const SCRIPT_CLOSE = '</script>'
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** The report split around its embedded data, when it is in the format k6 v2.2.0 writes. */
export function parseReport(html: string): { before: string; lead: string; base64: string; trail: string; after: string } | undefined {
  const start = html.indexOf(REPORT_DATA_TAG)
  if (start < 0 || html.indexOf(REPORT_DATA_TAG, start + 1) >= 0) return undefined
  const open = start + REPORT_DATA_TAG.length
  const close = html.indexOf(SCRIPT_CLOSE, open)
  if (close < 0) return undefined
  const before = html.slice(0, start)
  const after = html.slice(close + SCRIPT_CLOSE.length)
  // Any other data island (a script element that is not code) would be data this code does not read.
  for (const tag of `${before}${after}`.match(/<script\b[^>]*>/gi) ?? []) {
    const type = /\btype\s*=\s*["']?([^"'\s>]+)/i.exec(tag)?.[1]?.toLowerCase()
    if (type !== undefined && type !== 'module' && type !== 'text/javascript') return undefined
  }
  const content = html.slice(open, close)
  const base64 = content.trim()
  if (base64 === '' || !BASE64.test(base64) || base64.length % 4 !== 0) return undefined
  const lead = content.slice(0, content.indexOf(base64))
  const trail = content.slice(lead.length + base64.length)
  return { before, lead, base64, trail, after }
}

const gunzipAsync = promisify(gunzip)
const gzipAsync = promisify(gzip)

/** The report's embedded data as text: its NDJSON events, when they are what k6 v2.2.0 writes. */
export async function decodeReportData(base64: string): Promise<string | undefined> {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await gunzipAsync(Buffer.from(base64, 'base64')))
  } catch {
    return undefined
  }
  for (const line of text.split('\n')) {
    if (line === '') continue
    let event: unknown
    try {
      event = JSON.parse(line)
    } catch {
      return undefined
    }
    if (event === null || typeof event !== 'object' || typeof (event as { event?: unknown }).event !== 'string' || !('data' in event)) return undefined
  }
  return text
}

/**
 * Masks the report's page and, decoded, its embedded data; re-encodes the data as k6 did. False
 * (the caller removes the file) when the report is not in the format this code knows.
 */
async function redactReportFile(file: string, redact: Redact): Promise<boolean> {
  const html = await readFile(file, 'utf8')
  const report = parseReport(html)
  if (!report) return false
  const data = await decodeReportData(report.base64)
  if (data === undefined) return false
  if (!holdsSecret(html, redact) && !holdsSecret(data, redact)) return true
  const masked = data
    .split('\n')
    .map((line) => redactJsonText(line, redact))
    .join('\n')
  const base64 = masked === data ? report.base64 : (await gzipAsync(masked)).toString('base64')
  await writeFile(file, `${redact(report.before)}${REPORT_DATA_TAG}${report.lead}${base64}${report.trail}${SCRIPT_CLOSE}${redact(report.after)}`)
  return true
}

/** A gunzipped stream of `file`; a truncated stream ends where it was cut instead of failing. */
function gunzipped(file: string): NodeJS.ReadableStream & AsyncIterable<Buffer> {
  const source = createReadStream(file)
  const gunzip = createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH })
  source.on('error', (err) => gunzip.destroy(err))
  gunzip.on('close', () => source.destroy())
  return source.pipe(gunzip)
}

/**
 * A stream transform masking secrets in NDJSON with bounded memory, a block of whole lines at a
 * time: each line that holds a secret is masked (redactJsonText: still JSON when it was), blocks
 * without one pass through as they are. A last line without its newline (k6 was killed mid-write)
 * is masked too. Used by packFrames on the plain metric frames and here on the raw samples.
 */
export function maskNdjson(redact: Redact): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  const needles = redact.needles.map((n) => Buffer.from(n, 'utf8'))
  const holds = (bytes: Buffer) => needles.some((n) => bytes.includes(n))
  // A block holds whole lines (split on bytes, so never inside a UTF-8 character).
  const maskBlock = (block: Buffer): Buffer => {
    if (!holds(block)) return block
    const lines = block.toString('utf8').split('\n')
    return Buffer.from(lines.map((line) => redactJsonText(line, redact)).join('\n'), 'utf8')
  }
  // Lines are split by hand on bytes rather than with node:readline: blocks without a secret pass
  // through undecoded, and readline (a line per await) was ten times slower on a 1.4 GB stream.
  return async function* maskLines(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let pending: Buffer[] = []
    for await (const chunk of source) {
      const nl = chunk.lastIndexOf(0x0a)
      if (nl < 0) {
        pending.push(chunk)
        continue
      }
      yield maskBlock(pending.length > 0 ? Buffer.concat([...pending, chunk.subarray(0, nl + 1)]) : chunk.subarray(0, nl + 1))
      pending = nl + 1 < chunk.length ? [chunk.subarray(nl + 1)] : []
    }
    if (pending.length > 0) yield maskBlock(Buffer.concat(pending))
  }
}

/**
 * Masks the gzipped NDJSON raw samples with bounded memory (maskNdjson). A first pass only looks
 * for secrets, stopping at the first: in the common case (secrets in headers, which k6 does not
 * record) nothing is recompressed. When one is found, the file is streamed through the mask into
 * a new file that replaces it. A file cut off mid-stream (k6 killed, or stopped by the file-size
 * limit) keeps what could be read.
 */
async function redactSamplesFile(file: string, redact: Redact): Promise<boolean> {
  try {
    return await maskSamples(file, redact)
  } catch (err) {
    // zlib's errors (Z_DATA_ERROR, …): the file is not gzip, or corrupt.
    if (err instanceof Error && /^Z_/.test((err as NodeJS.ErrnoException).code ?? '')) return false
    throw err
  }
}

async function maskSamples(file: string, redact: Redact): Promise<boolean> {
  const needles = redact.needles.map((n) => Buffer.from(n, 'utf8'))
  const holds = (bytes: Buffer) => needles.some((n) => bytes.includes(n))
  if (!(await streamHolds(gunzipped(file), holds, Math.max(...needles.map((n) => n.length))))) return true
  const masking = path.join(path.dirname(file), `.${path.basename(file)}.masking`)
  try {
    await pipeline(
      gunzipped(file),
      maskNdjson(redact),
      // The default level, as k6 writes it: level 1 would save about a fifth of the CPU time
      // masking takes for a file about 40 % larger (measured on 1.4 GB of k6 output).
      createGzip(),
      createWriteStream(masking, { flags: 'wx', mode: 0o600 }),
    )
    await rename(masking, file)
    return true
  } finally {
    await rm(masking, { force: true })
  }
}

/** Whether `holds` finds anything in the stream, also across chunk boundaries (up to `span` bytes). */
async function streamHolds(stream: AsyncIterable<Buffer>, holds: (bytes: Buffer) => boolean, span: number): Promise<boolean> {
  let tail: Buffer = Buffer.alloc(0)
  for await (const chunk of stream) {
    const window = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk
    if (holds(window)) return true
    tail = window.subarray(Math.max(0, window.length - span + 1))
  }
  return false
}
