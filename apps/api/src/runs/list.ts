// runs.list's page in one SQL statement on the pg pool (pgQuery): the filters, the keyset bound
// taken from the cursor's row by a subquery (so no separate lookup of the cursor), and exactly the
// columns of a RunDto, every value read as Postgres's text and turned into the DTO here. This is
// the API's hottest read: through Prisma (query compiler, result mapping into Dates and BigInts,
// then toRunDto) a page of 50 cost the API several times the CPU of this, which 20 concurrent
// callers on one API process turn straight into latency (issue 17's list benchmark).
//
// The answer is the same as toRunDto's of the whole row (lists.test.ts checks every filter and
// page size against it): timestamps come from Postgres already in toISOString's form (the
// columns are timestamp(3), UTC), bigints as numbers, JSON columns parsed, artifacts validated by
// the same schema.
import { LRUCache } from 'lru-cache'
import { pgQuery, TEXT_VALUES, type Db } from '@stampede/db'
import { artifactsSchema, type RunStatus, type RunTrigger } from '@stampede/shared'
import type { ThresholdResult } from '@stampede/shared/k6'
import type { RunDto } from './dto.ts'

export interface RunListFilter {
  projectId: string
  testId?: string | undefined
  status?: RunStatus | undefined
  location?: string | undefined
  /** The id of the last run of the previous page. */
  cursor?: string | undefined
  /** Rows to read (the page's size plus one, to know whether another page follows). */
  take: number
}

/** toISOString's form of a timestamp(3) column, which holds UTC. */
const iso = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

// The DTO's columns, each under the name listRowToDto reads it by.
const COLUMNS = {
  id: 'id',
  projectId: 'project_id',
  testId: 'test_id',
  locationId: 'location_id',
  trigger: 'trigger',
  jobId: 'job_id',
  status: 'status',
  createdAt: iso('created_at'),
  startedAt: iso('started_at'),
  finishedAt: iso('finished_at'),
  durationMs: 'duration_ms',
  timeoutSeconds: 'timeout_seconds',
  exitCode: 'exit_code',
  thresholdsPassed: 'thresholds_passed',
  thresholds: 'thresholds',
  httpReqs: 'http_reqs',
  httpReqFailedRate: 'http_req_failed_rate',
  httpReqRate: 'http_req_rate',
  iterations: 'iterations',
  vusMax: 'vus_max',
  httpReqDurationAvg: 'http_req_duration_avg',
  httpReqDurationMin: 'http_req_duration_min',
  httpReqDurationMed: 'http_req_duration_med',
  httpReqDurationMax: 'http_req_duration_max',
  httpReqDurationP90: 'http_req_duration_p90',
  httpReqDurationP95: 'http_req_duration_p95',
  httpReqDurationP99: 'http_req_duration_p99',
  checksPassed: 'checks_passed',
  checksFailed: 'checks_failed',
  dataSent: 'data_sent',
  dataReceived: 'data_received',
  artifacts: 'artifacts',
  artifactsPending: 'artifacts_pending',
  consoleLines: 'console_lines',
  errorMessage: 'error_message',
  metricsNote: 'metrics_note',
  rawSamples: 'raw_samples',
} as const
const SELECT = `SELECT ${Object.entries(COLUMNS).map(([name, column]) => `${column} AS "${name}"`).join(', ')} FROM runs`

/**
 * The statement for a filter. Every list is per project; each filter and the order
 * (created_at desc, id desc) have an index ending in (created_at, id)
 * (prisma/migrations/20270112120000_list_indexes), so a page is the start of one index range.
 * After a cursor, `created_at <= t` bounds that range and the OR leaves out the cursor's row and
 * those before it at the same instant; an unknown cursor makes t NULL, so no row matches and the
 * list ends, as it always has.
 */
export function runListQuery(filter: RunListFilter): { text: string; values: unknown[] } {
  const values: unknown[] = [filter.projectId]
  const where = ['project_id = $1::uuid']
  const param = (value: unknown, cast: string) => `$${values.push(value)}${cast}`
  if (filter.testId !== undefined) where.push(`test_id = ${param(filter.testId, '::uuid')}`)
  if (filter.status !== undefined) where.push(`status = ${param(filter.status, '::run_status')}`)
  if (filter.location !== undefined) where.push(`location_id = ${param(filter.location, '')}`)
  if (filter.cursor !== undefined) {
    const cursor = param(filter.cursor, '::uuid')
    const at = `(SELECT created_at FROM runs WHERE id = ${cursor})`
    where.push(`created_at <= ${at}`, `(created_at < ${at} OR id < ${cursor})`)
  }
  const limit = param(filter.take, '::int')
  return { text: `${SELECT} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${limit}`, values }
}

/** A row of runListQuery: every column as Postgres's text, or null. */
export type RunListRow = Record<keyof typeof COLUMNS, string | null>

/** The rows of runListQuery for `filter`, newest first. */
export async function listRuns(db: Db, filter: RunListFilter): Promise<RunListRow[]> {
  const { rows } = await pgQuery<RunListRow>(db, { ...runListQuery(filter), types: TEXT_VALUES })
  return rows
}

type Text = string | null | undefined
const num = (v: Text): number | null => (v == null ? null : Number(v))
const str = (v: Text): string | null => v ?? null
const json = (v: Text): unknown => (v == null ? null : JSON.parse(v))

/**
 * The DTO's value of a JSON column (thresholds, artifacts) by the column's text: parsing and
 * validating them was most of the cost of a row, and lists show the same recent runs again and
 * again. A pure function of the text, so a hit is exactly what parsing would give; the values are
 * only ever serialised, never changed. Bounded at about 4 MB each (a text and its parsed value
 * counted as three times the text): some thousands of runs, the pages people keep looking at.
 */
function memoised<T>(convert: (text: Text) => T): (text: Text) => T {
  const cache = new LRUCache<string, { value: T }>({ maxSize: 4 * 1024 * 1024, sizeCalculation: (_v, text) => 3 * text.length + 64 })
  return (text) => {
    if (text == null) return convert(text)
    let hit = cache.get(text)
    if (!hit) cache.set(text, (hit = { value: convert(text) }))
    return hit.value
  }
}

const thresholdsOf = memoised((text): ThresholdResult[] => {
  const thresholds = json(text)
  return Array.isArray(thresholds) ? (thresholds as ThresholdResult[]) : []
})
const artifactsOf = memoised((text) => {
  const artifacts = artifactsSchema.safeParse(json(text) ?? {})
  return artifacts.success ? artifacts.data : {}
})

/** The RunDto of a runListQuery row: toRunDto's answer for the same run. */
export function listRowToDto(r: RunListRow, waitingForRunner = false): RunDto {
  const status = r.status as RunStatus
  return {
    id: r.id as string,
    projectId: r.projectId as string,
    testId: str(r.testId),
    location: r.locationId as string,
    trigger: r.trigger as RunTrigger,
    jobId: str(r.jobId),
    status,
    waitingForRunner: status === 'queued' && waitingForRunner,
    createdAt: r.createdAt as string,
    startedAt: str(r.startedAt),
    finishedAt: str(r.finishedAt),
    durationMs: num(r.durationMs),
    timeoutSeconds: Number(r.timeoutSeconds),
    rawSamples: r.rawSamples === 't',
    exitCode: num(r.exitCode),
    thresholdsPassed: r.thresholdsPassed == null ? null : r.thresholdsPassed === 't',
    thresholds: thresholdsOf(r.thresholds),
    metrics: {
      httpReqs: num(r.httpReqs),
      httpReqFailedRate: num(r.httpReqFailedRate),
      httpReqRate: num(r.httpReqRate),
      iterations: num(r.iterations),
      vusMax: num(r.vusMax),
      httpReqDuration: {
        avg: num(r.httpReqDurationAvg),
        min: num(r.httpReqDurationMin),
        med: num(r.httpReqDurationMed),
        max: num(r.httpReqDurationMax),
        p90: num(r.httpReqDurationP90),
        p95: num(r.httpReqDurationP95),
        p99: num(r.httpReqDurationP99),
      },
      checksPassed: num(r.checksPassed),
      checksFailed: num(r.checksFailed),
      dataSent: num(r.dataSent),
      dataReceived: num(r.dataReceived),
    },
    artifacts: artifactsOf(r.artifacts),
    artifactsPending: r.artifactsPending === 't',
    consoleLines: num(r.consoleLines),
    errorMessage: str(r.errorMessage),
    metricsNote: str(r.metricsNote),
  }
}
