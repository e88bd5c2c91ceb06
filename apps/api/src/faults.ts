// Faults answer plainly. When the database, Temporal or S3 is out of reach, a caller is told which
// part is down in plain words (tRPC SERVICE_UNAVAILABLE, HTTP 503, the console's `error`
// message, /healthz); any other unexpected error reaches the caller as an error id only. Neither
// ever carries the error's own text, which can hold source paths, query text or internal state;
// the server log has the whole error.
//
// classifyFault recognises the errors of the clients the API uses, as they really throw them:
//   database  Prisma 7 over @prisma/adapter-pg: PrismaClientKnownRequestError with a connection
//             code (P1001 …) or with `meta.driverAdapterError.cause.kind` DatabaseNotReachable,
//             ConnectionClosed, SocketTimeout, TooManyConnections or a Postgres connection or
//             shutdown SQLSTATE (a raw query answers P2010 with the kind); PrismaClientInitializationError;
//             and pg's own connection errors, which Prisma passes on as a plain Error
//             ("Connection terminated unexpectedly"); and @stampede/db's DatabaseQueryError (a query
//             straight on the pg pool) with a network code, or pg's error of an outage as its cause.
//   temporal  @temporalio/client: a gRPC error UNAVAILABLE or DEADLINE_EXCEEDED, bare or as the
//             cause of a ServiceError ("Failed to describe workflow"), and "Failed to connect
//             before the deadline" from Connection.connect.
//   storage   @aws-sdk: errors carrying `$metadata` with a network code (ECONNREFUSED …), a
//             TimeoutError, or HTTP status 500 and above.
// A bare network error (ECONNREFUSED with nothing saying whose) is not attributed to any part.
import { randomBytes } from 'node:crypto'
import { getTRPCErrorFromUnknown, TRPCError } from '@trpc/server'

export type Part = 'database' | 'temporal' | 'storage'
export const PARTS: readonly Part[] = ['database', 'temporal', 'storage']

export interface Fault {
  part: Part
  /** Plain words for the caller: which part is down and what to do. */
  message: string
}

/** What each part is called in messages. */
const SUBJECT: Record<Part, string> = {
  database: 'the database',
  temporal: 'Temporal (the workflow service)',
  storage: 'artifact storage (S3)',
}

const FAULT_MESSAGE: Record<Part, string> = {
  database: 'the database is not reachable right now; try again in a moment',
  temporal: 'Temporal (the workflow service) is not reachable right now; try again in a moment',
  storage: 'artifact storage (S3) is not reachable right now; try again in a moment',
}

type Logger = (...args: unknown[]) => void

/** Socket errors that mean the other end is out of reach. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN'])

/** Prisma's codes for "cannot reach / lost / timed out waiting for the database". */
const PRISMA_CONNECTION_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024'])

/** @prisma/adapter-pg's error kinds that mean the database is out of reach or full. */
const ADAPTER_OUTAGE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections'])

/**
 * Postgres SQLSTATEs of an outage: class 08 (connection exception), 57P01-57P03 (the server is
 * shutting down, crashed or starting up) and 53300 (too many connections).
 */
const isOutageSqlState = (code: unknown): boolean => typeof code === 'string' && (/^08[0-9A-Z]{3}$/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code))

/** pg's messages for a connection that could not be made or was lost (pg sets no code on these). */
const PG_CONNECTION_LOSS = /^(Connection terminated( unexpectedly| due to connection timeout)?|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable)$/

/** gRPC status codes of an outage: UNAVAILABLE, DEADLINE_EXCEEDED. */
const GRPC_OUTAGE_CODES = new Set([14, 4])

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

function isDatabaseOutage(e: Obj): boolean {
  const name = str(e.name)
  if (name === 'PrismaClientInitializationError') return true
  // Prisma stamps `clientVersion` on everything its client throws, pg's plain errors included.
  // DatabaseQueryError: a query of @stampede/db's pgQuery (straight on the pg pool), pg's error its cause.
  const fromPrisma = name.startsWith('PrismaClient') || name === 'DriverAdapterError' || name === 'DatabaseQueryError' || typeof e.clientVersion === 'string'
  if (fromPrisma) {
    if (PRISMA_CONNECTION_CODES.has(str(e.code)) || PRISMA_CONNECTION_CODES.has(str(e.errorCode))) return true
    if (NETWORK_CODES.has(str(e.code))) return true
    const meta = isObj(e.meta) ? e.meta : undefined
    const adapterError = isObj(meta?.driverAdapterError) ? meta.driverAdapterError : name === 'DriverAdapterError' ? e : undefined
    const kind = isObj(adapterError?.cause) ? adapterError.cause : undefined
    if (kind && (ADAPTER_OUTAGE_KINDS.has(str(kind.kind)) || (kind.kind === 'postgres' && isOutageSqlState(kind.code)))) return true
  }
  // pg's own errors: a server error (it has a severity) with an outage SQLSTATE, or a lost connection.
  if (typeof e.severity === 'string' && isOutageSqlState(e.code)) return true
  return PG_CONNECTION_LOSS.test(str(e.message))
}

function isTemporalOutage(e: Obj): boolean {
  // @grpc/grpc-js's ServiceError (what @temporalio/client's isGrpcServiceError checks for).
  if (typeof e.details === 'string' && isObj(e.metadata) && typeof e.code === 'number') return GRPC_OUTAGE_CODES.has(e.code)
  // grpc-js waitForReady, through Connection.connect: nothing answered within connectTimeout.
  return e.message === 'Failed to connect before the deadline'
}

function isStorageOutage(e: Obj): boolean {
  // The AWS SDK attaches `$metadata` to everything a command throws, network errors included.
  if (!isObj(e.$metadata)) return false
  if (NETWORK_CODES.has(str(e.code)) || e.name === 'TimeoutError' || e.name === 'RequestTimeout') return true
  const status = e.$metadata.httpStatusCode
  return typeof status === 'number' && status >= 500
}

/**
 * Which part an error says is out of reach, with the plain message for callers; undefined for
 * anything else. Looks through `cause` chains (a TRPCError's, a Temporal ServiceError's) and
 * AggregateError's `errors`.
 */
export function classifyFault(err: unknown): Fault | undefined {
  const queue: unknown[] = [err]
  const seen = new Set<unknown>()
  while (queue.length > 0 && seen.size < 32) {
    const e = queue.shift()
    if (!isObj(e) || seen.has(e)) continue
    seen.add(e)
    const part: Part | undefined = isDatabaseOutage(e) ? 'database' : isTemporalOutage(e) ? 'temporal' : isStorageOutage(e) ? 'storage' : undefined
    if (part) return { part, message: FAULT_MESSAGE[part] }
    queue.push(e.cause)
    if (Array.isArray(e.errors)) queue.push(...(e.errors as unknown[]).slice(0, 8))
  }
  return undefined
}

/**
 * Writes an unexpected error with a fresh id to the server log (with its stack and causes) and
 * returns what the client may see: the id, and nothing of the error's own text.
 */
export function reportInternalError(err: unknown, where: string, log: Logger = console.error): string {
  const id = randomBytes(8).toString('hex')
  log(`[api] internal error ${id} in ${where}:`, err)
  return `internal error ${id}; the server log has the details under this id`
}

/** Writes a fault to the server log: the plain message the caller got, then the whole error. */
export function reportFault(message: string, err: unknown, where: string, log: Logger = console.error): void {
  log(`[api] ${where}: ${message}:`, err)
}

/**
 * True for an error nobody chose the message of. tRPC turns anything thrown that is not a
 * TRPCError (a Prisma error, a bug) into INTERNAL_SERVER_ERROR carrying the thrown error as its
 * cause and the cause's message as its own; a TRPCError thrown on purpose has a message of its own.
 */
export function isUnexpectedError(error: TRPCError): boolean {
  if (error.code !== 'INTERNAL_SERVER_ERROR') return false
  return error.cause === undefined ? error.message === error.code : error.message === error.cause.message
}

/**
 * The TRPCError a procedure's error should answer as: SERVICE_UNAVAILABLE with the plain message
 * when it (or, for INTERNAL_SERVER_ERROR, its cause) is a fault; other TRPCErrors unchanged;
 * anything else INTERNAL_SERVER_ERROR with the error as its cause (which the error formatter
 * turns into an error id).
 */
export function toTrpcError(err: unknown): TRPCError {
  if (err instanceof TRPCError) {
    if (err.code !== 'INTERNAL_SERVER_ERROR') return err
    const fault = classifyFault(err.cause)
    return fault ? new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: fault.message, cause: err.cause }) : err
  }
  const fault = classifyFault(err)
  return fault ? new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: fault.message, cause: err }) : getTRPCErrorFromUnknown(err)
}

/**
 * What a caller outside tRPC (the console WebSocket's `error` message) may be told about `err`:
 * a deliberate TRPCError's own message, a fault's plain message, or else an error id. Faults and
 * unexpected errors are written to the server log in full, under `where`.
 */
export function publicErrorMessage(err: unknown, where = 'the API', log: Logger = console.error): string {
  if (err instanceof TRPCError && err.code !== 'INTERNAL_SERVER_ERROR') return err.message
  const fault = classifyFault(err)
  if (fault) {
    reportFault(fault.message, err, where, log)
    return fault.message
  }
  if (err instanceof TRPCError && !isUnexpectedError(err)) return err.message
  return reportInternalError(err instanceof TRPCError ? (err.cause ?? err) : err, where, log)
}

// ---------------------------------------------------------------------------------------------
// /healthz

/** Thrown by a health check to say, in words safe to show, why its part is not healthy. */
export class HealthCheckFailed extends Error {
  override readonly name = 'HealthCheckFailed'
}

export interface PartHealth {
  ok: boolean
  /** Plain words: how long the part took to answer, or why it is counted as down. */
  detail: string
}

export interface HealthReport {
  ok: boolean
  /** The parts that are down, in the order database, temporal, storage. */
  down: Part[]
  parts: Record<Part, PartHealth>
}

/** One check per part; each gets the time it has, to pass on as its own deadline where it can. */
export type HealthChecks = Record<Part, (timeoutMs: number) => Promise<unknown>>

export interface HealthProbeOptions {
  /** How long a check may take before its part counts as down (default 2 s). */
  timeoutMs?: number
  /** How long a report is reused after it is made (default 1 s): /healthz cannot hammer the services. */
  cacheMs?: number
  log?: Logger
  now?: () => number
}

class CheckTimedOut extends Error {}

const duration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`)

/** Why `part` counts as down, in plain words. */
function downDetail(part: Part, err: unknown, timeoutMs: number): string {
  const subject = SUBJECT[part]
  if (err instanceof CheckTimedOut) return `${subject} did not answer within ${duration(timeoutMs)}`
  if (err instanceof HealthCheckFailed) return err.message
  const status = isObj(err) && isObj(err.$metadata) ? err.$metadata.httpStatusCode : undefined
  const http = typeof status === 'number' ? ` (it answered HTTP ${status})` : ''
  if (classifyFault(err)?.part === part) return `${subject} is not reachable${http}`
  return `${subject} refused the check${http}; the server log has the details`
}

/**
 * Checks every part at once and reports which are down. A report is shared by every request
 * while it is being made and for `cacheMs` after; a check still running from an earlier report
 * (a part that hangs) is waited on again rather than started a second time, so each part has at
 * most one check in flight. The server log gets each part's going down (with the whole error)
 * and coming back, once.
 */
export function createHealthProbe(checks: HealthChecks, opts: HealthProbeOptions = {}): () => Promise<HealthReport> {
  const timeoutMs = opts.timeoutMs ?? 2000
  const cacheMs = opts.cacheMs ?? 1000
  const log = opts.log ?? console.error
  const now = opts.now ?? Date.now
  const inFlight = new Map<Part, { promise: Promise<unknown>; startedAt: number }>()
  const wasDown = new Map<Part, boolean>()
  let last: { report: Promise<HealthReport>; settledAt?: number } | undefined

  async function check(part: Part): Promise<PartHealth> {
    let running = inFlight.get(part)
    if (!running) {
      const startedAt = now()
      const promise = Promise.resolve()
        .then(() => checks[part](timeoutMs))
        .finally(() => inFlight.delete(part))
      promise.catch(() => {})
      running = { promise, startedAt }
      inFlight.set(part, running)
    }
    const startedAt = running.startedAt
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CheckTimedOut()), Math.max(0, startedAt + timeoutMs - now()))
    })
    try {
      await Promise.race([running.promise, timedOut])
      if (wasDown.get(part)) log(`[api] health: ${part} answers again`)
      wasDown.set(part, false)
      return { ok: true, detail: `answered in ${Math.max(0, now() - startedAt)} ms` }
    } catch (err) {
      const detail = downDetail(part, err, timeoutMs)
      if (!wasDown.get(part)) log(`[api] health: ${part} is down: ${detail}:`, err)
      wasDown.set(part, true)
      return { ok: false, detail }
    } finally {
      clearTimeout(timer)
    }
  }

  async function probe(): Promise<HealthReport> {
    const results = await Promise.all(PARTS.map(check))
    const parts = Object.fromEntries(PARTS.map((p, i) => [p, results[i]!])) as Record<Part, PartHealth>
    const down = PARTS.filter((p) => !parts[p].ok)
    return { ok: down.length === 0, down, parts }
  }

  return () => {
    if (last && (last.settledAt === undefined || now() - last.settledAt < cacheMs)) return last.report
    const entry: { report: Promise<HealthReport>; settledAt?: number } = { report: probe() }
    void entry.report.then(() => (entry.settledAt = now()))
    last = entry
    return entry.report
  }
}
