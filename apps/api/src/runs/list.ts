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

// The DTO's columns, in the order listRowToDto reads them.
const COLUMNS = [
  'id',
  'project_id',
  'test_id',
  'location_id',
  'trigger',
  'job_id',
  'status',
  iso('created_at'),
  iso('started_at'),
  iso('finished_at'),
  'duration_ms',
  'timeout_seconds',
  'exit_code',
  'thresholds_passed',
  'thresholds',
  'http_reqs',
  'http_req_failed_rate',
  'http_req_rate',
  'iterations',
  'vus_max',
  'http_req_duration_avg',
  'http_req_duration_min',
  'http_req_duration_med',
  'http_req_duration_max',
  'http_req_duration_p90',
  'http_req_duration_p95',
  'http_req_duration_p99',
  'checks_passed',
  'checks_failed',
  'data_sent',
  'data_received',
  'artifacts',
  'artifacts_pending',
  'console_lines',
  'error_message',
  'raw_samples',
].map((c, i) => `${c} AS c${i}`)
const SELECT = `SELECT ${COLUMNS.join(', ')} FROM runs`

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

/** A row of runListQuery: every column (c0 … c35) as Postgres's text, or null. */
export type RunListRow = Record<string, string | null>

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

/** The row's status (c6) and location (c3), for the runner-presence lookup of queued runs. */
export const listRowStatus = (row: RunListRow) => row.c6 as RunStatus
export const listRowLocation = (row: RunListRow) => row.c3 as string

/** The RunDto of a runListQuery row: toRunDto's answer for the same run. */
export function listRowToDto(r: RunListRow, waitingForRunner = false): RunDto {
  const status = r.c6 as RunStatus
  return {
    id: r.c0 as string,
    projectId: r.c1 as string,
    testId: str(r.c2),
    location: r.c3 as string,
    trigger: r.c4 as RunTrigger,
    jobId: str(r.c5),
    status,
    waitingForRunner: status === 'queued' && waitingForRunner,
    createdAt: r.c7 as string,
    startedAt: str(r.c8),
    finishedAt: str(r.c9),
    durationMs: num(r.c10),
    timeoutSeconds: Number(r.c11),
    rawSamples: r.c35 === 't',
    exitCode: num(r.c12),
    thresholdsPassed: r.c13 == null ? null : r.c13 === 't',
    thresholds: thresholdsOf(r.c14),
    metrics: {
      httpReqs: num(r.c15),
      httpReqFailedRate: num(r.c16),
      httpReqRate: num(r.c17),
      iterations: num(r.c18),
      vusMax: num(r.c19),
      httpReqDuration: {
        avg: num(r.c20),
        min: num(r.c21),
        med: num(r.c22),
        max: num(r.c23),
        p90: num(r.c24),
        p95: num(r.c25),
        p99: num(r.c26),
      },
      checksPassed: num(r.c27),
      checksFailed: num(r.c28),
      dataSent: num(r.c29),
      dataReceived: num(r.c30),
    },
    artifacts: artifactsOf(r.c31),
    artifactsPending: r.c32 === 't',
    consoleLines: num(r.c33),
    errorMessage: str(r.c34),
  }
}
