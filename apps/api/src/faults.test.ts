// Faults answer plainly, checked with the errors the real clients throw: Prisma over pg against a
// closed port, a port that hangs up and a backend that is terminated; @temporalio/client against
// a closed port; the AWS SDK against a closed port and a server answering 503. Then the whole API
// (createServer) with all three out of reach: tRPC, /healthz, the console WebSocket and the
// artifact route each name the part that is down and none of the error's own text.
import http from 'node:http'
import net from 'node:net'
import { TRPCError } from '@trpc/server'
import { Client, Connection } from '@temporalio/client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createDb, pgQuery } from '@stampede/db'
import { DEFAULT_TEST_ADMIN_URL } from '@stampede/db/testing'
import { createStorage, type Storage } from '@stampede/storage'
import { classifyFault, createHealthProbe, HealthCheckFailed, publicErrorMessage, toTrpcError, type HealthChecks } from './faults.ts'
import { loadApiConfig } from './env.ts'
import { createServer, type ApiServer } from './server.ts'
import { closedPort } from './closed-port.ts'
import { API_VERSION } from './version.ts'

const DATABASE = 'the database is not reachable right now; try again in a moment'
const TEMPORAL = 'Temporal (the workflow service) is not reachable right now; try again in a moment'
const STORAGE = 'artifact storage (S3) is not reachable right now; try again in a moment'

/** Text that must never reach a caller: client names, invocation excerpts, paths, addresses, codes. */
function expectPlain(text: string): void {
  for (const leak of [/prisma/i, /invocation/i, /\/work\//, /node_modules/, /\.ts:\d/, /ECONN/, /127\.0\.0\.1/, /UNAVAILABLE:/, /DEADLINE/, /\n/]) {
    expect(text, `${JSON.stringify(text)} leaks ${String(leak)}`).not.toMatch(leak)
  }
}


async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as net.AddressInfo).port
}

async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    return err
  }
  throw new Error('expected the call to fail')
}

const s3Config = (endpoint: string) => ({ endpoint, region: 'us-east-1', bucket: 'stampede', accessKeyId: 'test', secretAccessKey: 'test-secret', forcePathStyle: true })

const cleanups: (() => Promise<unknown> | void)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})
afterEach(() => {
  vi.restoreAllMocks()
})

describe('classifyFault on the database client', () => {
  it('names the database for a query against a closed port, the model API, raw queries and transactions alike', async () => {
    const db = createDb(`postgresql://postgres@127.0.0.1:${await closedPort()}/stampede`)
    cleanups.push(() => db.$disconnect())
    const model = await thrown(() => db.run.findUnique({ where: { id: '00000000-0000-0000-0000-000000000000' } }))
    // What used to reach callers: Prisma's invocation excerpt with this file's path.
    expect((model as Error).message).toMatch(/Invalid `db\.run\.findUnique\(\)` invocation in\n.*faults\.test\.ts/)
    expect((model as { code?: string }).code).toBe('P1001')
    const raw = await thrown(() => db.$queryRaw`SELECT 1`)
    expect((raw as { code?: string }).code).toBe('P2010')
    const tx = await thrown(() => db.$transaction(async (t) => t.run.count()))
    // A query straight on the pg pool (runs.list, the token lookup).
    const direct = await thrown(() => pgQuery(db, { text: 'SELECT 1' }))
    expect(direct).toMatchObject({ name: 'DatabaseQueryError', code: 'ECONNREFUSED' })
    for (const err of [model, raw, tx, direct]) expect(classifyFault(err)).toEqual({ part: 'database', message: DATABASE })
  })

  it('names the database when the server hangs up before answering (pg: Connection terminated unexpectedly)', async () => {
    const server = net.createServer((socket) => socket.destroy())
    const db = createDb(`postgresql://postgres@127.0.0.1:${await listen(server)}/stampede`)
    cleanups.push(() => db.$disconnect(), () => void server.close())
    const err = await thrown(() => db.run.count())
    expect((err as Error).message).toBe('Connection terminated unexpectedly')
    expect(classifyFault(err)).toEqual({ part: 'database', message: DATABASE })
    const direct = await thrown(() => pgQuery(db, { text: 'SELECT 1' }))
    expect((direct as Error).cause).toMatchObject({ message: 'Connection terminated unexpectedly' })
    expect(classifyFault(direct)).toEqual({ part: 'database', message: DATABASE })
  })

  it('names the database when the backend is terminated (SQLSTATE 57P01), and not for an ordinary query error', async () => {
    const db = createDb(process.env.TEST_DATABASE_ADMIN_URL ?? DEFAULT_TEST_ADMIN_URL, { max: 1 })
    cleanups.push(() => db.$disconnect())
    const terminated = await thrown(() => db.$queryRawUnsafe('SELECT pg_terminate_backend(pg_backend_pid())'))
    expect((terminated as Error).message).toContain('57P01')
    expect(classifyFault(terminated)).toEqual({ part: 'database', message: DATABASE })
    // The pool replaces the connection; a query error of the caller's own is no outage.
    const missingTable = await thrown(() => db.$queryRawUnsafe('SELECT * FROM no_such_table_for_faults_test'))
    expect((missingTable as { code?: string }).code).toBe('P2010')
    expect(classifyFault(missingTable)).toBeUndefined()
    // The same through pgQuery.
    const directTerminated = await thrown(() => pgQuery(db, { text: 'SELECT pg_terminate_backend(pg_backend_pid())' }))
    expect(directTerminated).toMatchObject({ name: 'DatabaseQueryError', code: '57P01' })
    expect(classifyFault(directTerminated)).toEqual({ part: 'database', message: DATABASE })
    const directMissing = await thrown(() => pgQuery(db, { text: 'SELECT * FROM no_such_table_for_faults_test' }))
    expect(directMissing).toMatchObject({ name: 'DatabaseQueryError', code: '42P01' })
    expect(classifyFault(directMissing)).toBeUndefined()
  })
})

describe('classifyFault on the Temporal client', () => {
  it('names Temporal for Connection.connect to a closed port and for client calls past their deadline', async () => {
    const address = `127.0.0.1:${await closedPort()}`
    const connect = await thrown(() => Connection.connect({ address, connectTimeout: 300 }))
    expect((connect as Error).message).toBe('Failed to connect before the deadline')
    expect(classifyFault(connect)).toEqual({ part: 'temporal', message: TEMPORAL })

    const connection = Connection.lazy({ address, connectTimeout: 300 })
    cleanups.push(() => connection.close().catch(() => {}))
    const client = new Client({ connection })
    // A ServiceError whose cause is the gRPC DEADLINE_EXCEEDED.
    const describe = await thrown(() => connection.withDeadline(Date.now() + 300, () => client.workflow.getHandle('wf').describe()))
    expect(describe).toMatchObject({ name: 'ServiceError', message: 'Failed to describe workflow', cause: { code: 4 } })
    const systemInfo = await thrown(() => connection.withDeadline(Date.now() + 300, () => connection.workflowService.getSystemInfo({})))
    for (const err of [describe, systemInfo]) expect(classifyFault(err)).toEqual({ part: 'temporal', message: TEMPORAL })
  })

  it('does not count a gRPC refusal (NOT_FOUND) as an outage', () => {
    const notFound = Object.assign(new Error('5 NOT_FOUND: workflow not found'), { code: 5, details: 'workflow not found', metadata: {} })
    expect(classifyFault(notFound)).toBeUndefined()
  })
})

describe('classifyFault on the S3 client', () => {
  it('names storage for a closed port, a server answering 503 and one hanging up; not for a refusal (403)', async () => {
    const closed = createStorage(s3Config(`http://127.0.0.1:${await closedPort()}`))
    const unavailable = http.createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code><Message>Please reduce your request rate.</Message></Error>')
    })
    const hangsUp = net.createServer((socket) => socket.resetAndDestroy())
    const refuses = http.createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>')
    })
    const storages: Storage[] = [closed]
    const on = (server: net.Server) => listen(server).then((port) => {
      cleanups.push(() => void server.close())
      const s = createStorage(s3Config(`http://127.0.0.1:${port}`))
      storages.push(s)
      return s
    })
    const [s503, sReset, s403] = [await on(unavailable), await on(hangsUp), await on(refuses)]
    cleanups.push(() => storages.forEach((s) => s.destroy()))

    const refused = await thrown(() => closed.ping())
    expect(refused).toMatchObject({ code: 'ECONNREFUSED', $metadata: expect.any(Object) })
    const answered503 = await thrown(() => s503.getBytes('runs/x/console.log'))
    expect(answered503).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } })
    const reset = await thrown(() => sReset.getStream('runs/x/console.log'))
    expect(reset).toMatchObject({ code: 'ECONNRESET' })
    for (const err of [refused, answered503, reset]) expect(classifyFault(err)).toEqual({ part: 'storage', message: STORAGE })

    const denied = await thrown(() => s403.getBytes('runs/x/console.log'))
    expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })
    expect(classifyFault(denied)).toBeUndefined()
  })
})

describe('classifyFault on anything else', () => {
  it('attributes a bare socket error to no part, and finds a fault behind causes and in an AggregateError', async () => {
    const port = await closedPort()
    const bare = await new Promise<Error>((resolve) => net.connect(port, '127.0.0.1').once('error', resolve))
    expect(bare).toMatchObject({ code: 'ECONNREFUSED' })
    expect(classifyFault(bare)).toBeUndefined()
    expect(classifyFault(new Error('a bug'))).toBeUndefined()
    expect(classifyFault(undefined)).toBeUndefined()
    expect(classifyFault('text')).toBeUndefined()

    const temporal = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14, details: 'No connection established', metadata: {} })
    expect(classifyFault(new Error('could not start', { cause: new Error('wrapped', { cause: temporal }) }))?.part).toBe('temporal')
    expect(classifyFault(new AggregateError([new Error('a bug'), temporal]))?.part).toBe('temporal')
    const loop: { cause?: unknown } = new Error('loop')
    loop.cause = loop
    expect(classifyFault(loop)).toBeUndefined()
  })
})

describe('toTrpcError and publicErrorMessage', () => {
  const prismaLike = Object.assign(new Error('\nInvalid `prisma.run.findUnique()` invocation in\n/work/main/apps/api/src/console/relay.ts:74:45\n\nCan\'t reach database server at 127.0.0.1:5432'), {
    name: 'PrismaClientKnownRequestError',
    code: 'P1001',
    clientVersion: '7.10.1',
  })

  it('maps a fault to SERVICE_UNAVAILABLE with the plain message and the error as cause', () => {
    const answer = toTrpcError(prismaLike)
    expect(answer).toBeInstanceOf(TRPCError)
    expect(answer).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: DATABASE, cause: prismaLike })
    // tRPC's own wrapping of a thrown error, and a deliberate internal error with a fault cause.
    expect(toTrpcError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: prismaLike }))).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: DATABASE })
    expect(toTrpcError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'could not start the run', cause: prismaLike }))).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: DATABASE })
  })

  it('leaves deliberate TRPCErrors alone and wraps anything else as INTERNAL_SERVER_ERROR', () => {
    const notFound = new TRPCError({ code: 'NOT_FOUND', message: 'run 1 does not exist', cause: prismaLike })
    expect(toTrpcError(notFound)).toBe(notFound)
    const deliberate = new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'procedure x declares no access rule' })
    expect(toTrpcError(deliberate)).toBe(deliberate)
    const bug = new Error('/work/main/apps/api/src/x.ts:1 exploded')
    expect(toTrpcError(bug)).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', cause: bug })
  })

  it('tells the console a fault plainly, a refusal in its own words, anything else as an error id; the log has the error', () => {
    const lines: unknown[][] = []
    const log = (...args: unknown[]) => void lines.push(args)
    expect(publicErrorMessage(prismaLike, 'console WebSocket', log)).toBe(DATABASE)
    expect(lines).toEqual([[`[api] console WebSocket: ${DATABASE}:`, prismaLike]])

    lines.length = 0
    expect(publicErrorMessage(new TRPCError({ code: 'NOT_FOUND', message: 'run 1 does not exist' }), 'console', log)).toBe('run 1 does not exist')
    expect(publicErrorMessage(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'could not read the run' }), 'console', log)).toBe('could not read the run')
    expect(lines).toEqual([])

    const bug = new Error('/work/main/apps/api/src/x.ts:1 exploded')
    for (const err of [bug, new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: bug })]) {
      lines.length = 0
      const message = publicErrorMessage(err, 'console relay', log)
      const id = /^internal error ([0-9a-f]{16}); the server log has the details under this id$/.exec(message)?.[1]
      expect(id, message).toBeDefined()
      expect(lines).toEqual([[`[api] internal error ${id} in console relay:`, bug]])
    }
  })
})

describe('createHealthProbe', () => {
  const fine: HealthChecks = { database: async () => {}, temporal: async () => {}, storage: async () => {} }

  it('with real clients out of reach, reports every part down in plain words and logs each going down once', async () => {
    const db = createDb(`postgresql://postgres@127.0.0.1:${await closedPort()}/stampede`)
    const temporalAddress = `127.0.0.1:${await closedPort()}`
    const storage = createStorage(s3Config(`http://127.0.0.1:${await closedPort()}`))
    cleanups.push(() => db.$disconnect(), () => storage.destroy())
    const lines: unknown[][] = []
    const health = createHealthProbe(
      {
        database: () => db.$queryRaw`SELECT 1`,
        // Well within the probe's timeout, so the answer is Temporal's own error, not the timeout.
        temporal: () => Connection.connect({ address: temporalAddress, connectTimeout: 200 }),
        storage: () => storage.ping(),
      },
      { timeoutMs: 1000, cacheMs: 0, log: (...args) => void lines.push(args) },
    )
    const report = await health()
    expect(report).toEqual({
      ok: false,
      down: ['database', 'temporal', 'storage'],
      parts: {
        database: { ok: false, detail: 'the database is not reachable' },
        temporal: { ok: false, detail: 'Temporal (the workflow service) is not reachable' },
        storage: { ok: false, detail: 'artifact storage (S3) is not reachable' },
      },
    })
    expectPlain(JSON.stringify(report))
    expect(lines.map((l) => l[0]).sort()).toEqual([
      '[api] health: database is down: the database is not reachable:',
      '[api] health: storage is down: artifact storage (S3) is not reachable:',
      '[api] health: temporal is down: Temporal (the workflow service) is not reachable:',
    ])
    // Still down: no new log lines.
    await health()
    expect(lines).toHaveLength(3)
  })

  it('says why in the words of a HealthCheckFailed, and that a refusal is in the log', async () => {
    const health = createHealthProbe(
      {
        ...fine,
        temporal: async () => {
          throw new HealthCheckFailed('Temporal has no namespace "default" (TEMPORAL_NAMESPACE)')
        },
        storage: async () => {
          throw Object.assign(new Error('/srv/x.ts:1 Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })
        },
      },
      { log: () => {} },
    )
    const report = await health()
    expect(report.down).toEqual(['temporal', 'storage'])
    expect(report.parts.temporal.detail).toBe('Temporal has no namespace "default" (TEMPORAL_NAMESPACE)')
    expect(report.parts.storage.detail).toBe('artifact storage (S3) refused the check (it answered HTTP 403); the server log has the details')
    expect(report.parts.database).toEqual({ ok: true, detail: expect.stringMatching(/^answered in \d+ ms$/) })
  })

  it('reuses a report for cacheMs, then checks again', async () => {
    let clock = 1_000_000
    let calls = 0
    const count = async () => void calls++
    const health = createHealthProbe({ database: count, temporal: count, storage: count }, { cacheMs: 1000, now: () => clock })
    const [a, b] = await Promise.all([health(), health()])
    expect(a).toBe(b)
    expect(a.ok).toBe(true)
    expect(calls).toBe(3)
    clock += 999
    expect(await health()).toBe(a)
    expect(calls).toBe(3)
    clock += 1
    expect(await health()).not.toBe(a)
    expect(calls).toBe(6)
  })

  it('counts a part that does not answer within timeoutMs as down, never has two of its checks in flight, and logs its return', async () => {
    let release: () => void = () => {}
    let databaseChecks = 0
    const lines: unknown[][] = []
    const health = createHealthProbe(
      {
        ...fine,
        database: () => {
          databaseChecks++
          return databaseChecks === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()
        },
      },
      { timeoutMs: 50, cacheMs: 0, log: (...args) => void lines.push(args) },
    )
    const first = await health()
    expect(first.down).toEqual(['database'])
    expect(first.parts.database).toEqual({ ok: false, detail: 'the database did not answer within 50 ms' })
    // The hung check is still the one in flight: the next report waits on it, without starting another.
    const second = await health()
    expect(second.down).toEqual(['database'])
    expect(databaseChecks).toBe(1)
    // Answering at last: the report waiting on it says so; the check after that is a new one.
    release()
    const third = await health()
    expect(third.ok).toBe(true)
    expect(databaseChecks).toBe(1)
    expect((await health()).ok).toBe(true)
    expect(databaseChecks).toBe(2)
    expect(lines.map((l) => l[0])).toEqual(['[api] health: database is down: the database did not answer within 50 ms:', '[api] health: database answers again'])
  })
})

describe('the API with the database, Temporal and S3 out of reach', () => {
  let api: ApiServer
  const token = `stp_${'a'.repeat(43)}`
  const runId = '3f6c2b1e-9a4d-4c8e-8f00-1234567890ab'

  beforeAll(async () => {
    const [dbPort, temporalPort, s3Port] = [await closedPort(), await closedPort(), await closedPort()]
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    api = await createServer(
      loadApiConfig({
        DATABASE_URL: `postgresql://stampede:secret@127.0.0.1:${dbPort}/stampede`,
        TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
        S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
        S3_ACCESS_KEY_ID: 'test',
        S3_SECRET_ACCESS_KEY: 'test-secret',
        K6_SANDBOX: 'off',
        K6_BIN_PATH: process.execPath,
        API_PORT: '0',
      }),
    )
  })
  afterAll(async () => {
    await api?.stop()
  })

  it('answers a procedure SERVICE_UNAVAILABLE naming the database, and logs the whole error', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    for (const [method, url, payload] of [
      ['GET', `/trpc/runs.byId?input=${encodeURIComponent(JSON.stringify({ id: runId }))}`, undefined],
      ['POST', '/trpc/auth.login', { email: 'a@example.com', password: 'correct horse battery staple' }],
    ] as const) {
      log.mockClear()
      const res = await api.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(payload ? { payload } : {}) })
      expect(res.statusCode, res.body).toBe(503)
      const body = res.json<{ error: { message: string; data: { code: string; httpStatus: number } } }>()
      expect(body.error.message).toBe(DATABASE)
      expect(body.error.data).toMatchObject({ code: 'SERVICE_UNAVAILABLE', httpStatus: 503 })
      expectPlain(res.body)
      expect(log).toHaveBeenCalledTimes(1)
      expect(log.mock.calls[0]![0]).toMatch(new RegExp(`^\\[api\\] (runs\\.byId|auth\\.login): ${DATABASE}:$`))
      // The token lookup goes straight to the pg pool (pgQuery); sign-in goes through Prisma.
      expect(String((log.mock.calls[0]![1] as Error).message)).toMatch(/Can't reach database server|database query failed: connect ECONNREFUSED/)
    }
  })

  it('answers /healthz 503 naming every part that is down, in plain words, with the fields it always had', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const res = await api.app.inject({ method: 'GET', url: '/healthz' })
    expect(res.statusCode).toBe(503)
    expect(res.headers['cache-control']).toBe('no-store')
    const body = res.json<Record<string, unknown>>()
    const temporalDetail = /^Temporal \(the workflow service\) (is not reachable|did not answer within 2 s)$/
    expect(body).toEqual({
      ok: false,
      version: API_VERSION,
      database: { ok: false, error: 'the database is not reachable' },
      temporal: { ok: false, error: expect.stringMatching(temporalDetail) },
      s3: { ok: false, error: 'artifact storage (S3) is not reachable' },
      sandbox: { ok: true, mode: 'off', detail: expect.any(String) },
      down: ['database', 'temporal', 'storage'],
      parts: {
        database: { ok: false, detail: 'the database is not reachable' },
        temporal: { ok: false, detail: expect.stringMatching(temporalDetail) },
        storage: { ok: false, detail: 'artifact storage (S3) is not reachable' },
      },
    })
    expectPlain(JSON.stringify({ ...body, sandbox: undefined }))
  })

  it('sends the console WebSocket an error naming the database, and closes it so clients retry (1011)', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const messages: unknown[] = []
    let closed: (code: number) => void = () => {}
    const closedWith = new Promise<number>((resolve) => (closed = resolve))
    await api.app.injectWS(`/ws/runs/${runId}/console`, { headers: { authorization: `Bearer ${token}` } }, {
      onInit: (ws) => {
        ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8'))))
        ws.on('close', (code: number) => closed(code))
      },
    })
    expect(await closedWith).toBe(1011)
    expect(messages).toEqual([{ type: 'error', message: `console unavailable: ${DATABASE}` }])
  })

  it('answers an artifact download 503 naming storage', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    const link = new URL(api.services.artifactLinks.create(runId, 'log').url)
    const res = await api.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ error: { message: STORAGE, code: 'SERVICE_UNAVAILABLE' } })
    expect(log).toHaveBeenCalledWith(`[api] GET /artifacts/:runId/:name: ${STORAGE}:`, expect.objectContaining({ code: 'ECONNREFUSED' }))
  })
})
