// A run's directory on the runner is its spool: what k6 wrote (summary, report, metrics) and the
// console the runner recorded stay there until storage has taken them, through S3 outages and
// runner restarts. Beside them the runner keeps `run.json` (which run, when k6 started) and, once
// k6 has ended, `outcome.json` (what the workflow needs to record the result), so a runner that
// comes back after a crash can tell a finished run from one that died with it.
import { createReadStream, createWriteStream } from 'node:fs'
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { parseConsoleIndex } from '@stampede/shared'
import { extractRunMetrics, parseSummary, thresholdResults } from '@stampede/shared/k6'
import type { K6Outcome } from '@stampede/shared/temporal'
import { K6_OUTPUTS, OUTPUT_FILES } from './command.ts'
import { maskNdjson, type Redact } from './redact.ts'

const META_FILE = 'run.json'
const OUTCOME_FILE = 'outcome.json'
const RUN_PREFIX = 'run-'

export interface SpoolMeta {
  runId: string
  /** When k6 was started (absent: the runner died before starting it). */
  startedAt?: string
}

/** A run's spool on the host: `base` holds the runner's files, `dir` (base/k6) k6's. */
export interface SpoolDir {
  base: string
  dir: string
}

/** The directory prefix of a run's spool (the sandbox adds a random suffix). */
export const spoolPrefix = (runId: string): string => `${RUN_PREFIX}${runId}-`

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp`
  await writeFile(tmp, JSON.stringify(value), { mode: 0o600 })
  await rename(tmp, file)
}

export const writeMeta = (base: string, meta: SpoolMeta): Promise<void> => writeJsonAtomic(path.join(base, META_FILE), meta)
export const writeOutcome = (base: string, outcome: K6Outcome): Promise<void> => writeJsonAtomic(path.join(base, OUTCOME_FILE), outcome)

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

export const readOutcome = (spool: SpoolDir): Promise<K6Outcome | undefined> => readJson<K6Outcome>(path.join(spool.base, OUTCOME_FILE))

/** The spool of a run, if this runner has one. */
export async function findSpool(root: string, runId: string): Promise<SpoolDir | undefined> {
  const prefix = spoolPrefix(runId)
  const name = (await readdir(root).catch(() => [] as string[])).find((n) => n.startsWith(prefix))
  if (!name) return undefined
  const base = path.join(root, name)
  return { base, dir: path.join(base, 'k6') }
}

/** Every run spool under `root`, with its run id (spools without a readable run.json are skipped). */
export async function listSpools(root: string): Promise<(SpoolDir & SpoolMeta)[]> {
  const found: (SpoolDir & SpoolMeta)[] = []
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!name.startsWith(RUN_PREFIX)) continue
    const base = path.join(root, name)
    const meta = await readJson<SpoolMeta>(path.join(base, META_FILE))
    if (meta?.runId) found.push({ ...meta, base, dir: path.join(base, 'k6') })
  }
  return found
}

export const removeSpool = (spool: SpoolDir): Promise<void> => rm(spool.base, { recursive: true, force: true })

/** Output files k6 never wrote (created empty for the sandbox to bind) are not artifacts. */
export async function dropEmptyOutputs(dir: string): Promise<void> {
  for (const file of K6_OUTPUTS) {
    const target = path.join(dir, file)
    if ((await stat(target).then((s) => s.size, () => -1)) === 0) await rm(target, { force: true })
  }
}

/**
 * Gzips the metric frames k6 wrote (metrics.ndjson → metrics.ndjson.gz, the `metrics` artifact)
 * once k6 has ended, and removes the plain file. Frames are repetitive JSON: gzip makes them
 * several times smaller. With `redact` (the run's secrets), every frame is masked on its way to
 * gzip (maskNdjson: tag values such as check, group and request names come from the script), so
 * the frames are compressed once and the packed file never holds a secret. Without frames (k6
 * never started its outputs) there is nothing to do. On a failure the packed file is removed (and
 * the error thrown): half-written, it may hold unmasked frames.
 */
export async function packFrames(dir: string, redact?: Redact): Promise<{ bytes: number; masked: boolean } | undefined> {
  const plain = path.join(dir, OUTPUT_FILES.frames)
  const packed = path.join(dir, OUTPUT_FILES.metrics)
  const size = await stat(plain).then((s) => (s.isFile() ? s.size : -1), () => -1)
  if (size < 0) return undefined
  const masked = redact !== undefined && redact.needles.length > 0
  if (size > 0) {
    try {
      const output = createWriteStream(packed, { mode: 0o600 })
      if (masked) await pipeline(createReadStream(plain), maskNdjson(redact), createGzip(), output)
      else await pipeline(createReadStream(plain), createGzip(), output)
    } catch (err) {
      await rm(packed, { force: true }).catch(() => undefined)
      throw err
    }
  }
  await rm(plain, { force: true })
  return { bytes: size, masked }
}

/** What the run's result needs from k6's summary, read on the runner so the result does not wait for storage. */
export async function summaryResult(dir: string): Promise<NonNullable<K6Outcome['result']>> {
  let text: string
  try {
    text = await readFile(path.join(dir, OUTPUT_FILES.summary), 'utf8')
  } catch {
    return { metrics: null, thresholds: null, problem: null }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    // A summary k6 could not finish (a file-size limit, a kill mid-write) is not JSON.
    return { metrics: null, thresholds: null, problem: `k6's summary is not complete JSON (${(err as Error).message})` }
  }
  try {
    const summary = parseSummary(json)
    return { metrics: { ...extractRunMetrics(summary) }, thresholds: thresholdResults(summary), problem: null }
  } catch (err) {
    return { metrics: null, thresholds: null, problem: `k6's summary did not match the expected format: ${err instanceof Error ? err.message : String(err)}` }
  }
}

/**
 * The outcome of a run whose runner died while k6 ran (k6 dies with its runner): what its console
 * shows. Its duration ends at the last line k6 printed, not when the runner came back.
 */
export async function lostOutcome(spool: SpoolDir, meta: SpoolMeta | undefined, runner: string): Promise<K6Outcome> {
  const lines = parseConsoleIndex(await readFile(path.join(spool.base, OUTPUT_FILES.consoleIndex), 'utf8').catch(() => ''))
  const consoleLines = lines.at(-1)?.seq ?? 0
  const lastTime = lines.at(-1)?.time
  const startedAt = meta?.startedAt ?? (await stat(spool.base).then((s) => s.mtime.toISOString(), () => new Date().toISOString()))
  return {
    exitCode: null,
    signal: null,
    reason: 'runner_lost',
    startedAt,
    finishedAt: lastTime && lastTime > startedAt ? lastTime : startedAt,
    consoleLines,
    errorText: `the runner stopped during the run and k6 stopped with it; the console up to then (${consoleLines} lines) is kept`,
    result: { metrics: null, thresholds: null, problem: null },
    runner,
  }
}

export const readMeta = (spool: SpoolDir): Promise<SpoolMeta | undefined> => readJson<SpoolMeta>(path.join(spool.base, META_FILE))
