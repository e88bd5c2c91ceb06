// createServer(config) → { app, start, stop }: the API process. Fastify serves tRPC at /trpc,
// the live console WebSocket at /ws/runs/<runId>/console?after=<seq>, signed artifact links at
// /artifacts/<runId>/<name>, test file uploads at POST /files, and GET /healthz.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify'
import { TRPCError } from '@trpc/server'
import websocket from '@fastify/websocket'
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify'
import { Client, Connection } from '@temporalio/client'
import { createDb, type Db } from '@stampede/db'
import { ARTIFACTS, artifactKey, artifactNameSchema, runIdSchema, type ConsoleMessage } from '@stampede/shared'
import { createStorage, ArtifactNotFoundError } from '@stampede/storage'
import { temporalConnectOptions } from '@stampede/shared/temporal-connection'
import { registerRunnerSecrets } from './runner-secrets.ts'
import { FILE_UPLOAD_PATH, registerFileUpload, uploadTooLargeMessage } from './files/upload.ts'
import { ArtifactLinks, REPORT_CSP } from './artifacts/links.ts'
import { ConsoleRelay } from './console/relay.ts'
import { createInnerContext, type Services } from './context.ts'
import { Access } from './auth/access.ts'
import { resolveActor, type RequestInfo } from './auth/actor.ts'
import { prepareBootstrap } from './auth/bootstrap.ts'
import { TokenRateLimiter } from './auth/limits.ts'
import { reconcileSchedules } from './jobs/schedules.ts'
import type { ApiConfig } from './env.ts'
import { appRouter, type AppRouter } from './router/root.ts'
import { RunnerPresence } from './runs/presence.ts'
import { RunListCache } from './runs/list-cache.ts'
import { classifyFault, createHealthProbe, HealthCheckFailed, isUnexpectedError, publicErrorMessage, reportFault, reportInternalError, type Part } from './faults.ts'
import { ValidationGate } from './scripts/gate.ts'
import { API_VERSION } from './version.ts'
import { InspectCache } from '@stampede/runs'
import { K6Sandbox } from '@stampede/sandbox'
import { resolveTool } from '@stampede/tools'
import os from 'node:os'
import path from 'node:path'
import v8 from 'node:v8'

class ConsoleRefused extends Error {}

export interface ApiServer {
  app: FastifyInstance
  services: Services
  /** Listens and returns the base URL. */
  start(): Promise<string>
  /**
   * After start, while no account exists: the one-time link that creates the first admin (shown
   * once by whoever started the API). Null once an account exists or when BOOTSTRAP_TOKEN is set.
   */
  readonly bootstrapLink: string | null
  /** What the schedule reconciliation at start repaired (empty: the jobs and Temporal agreed). */
  readonly scheduleDrift: string[]
  stop(): Promise<void>
}

async function syncLocations(db: Db, config: ApiConfig): Promise<void> {
  for (const l of config.locations) {
    await db.location.upsert({ where: { id: l.id }, create: { id: l.id, name: l.name, region: l.region }, update: { name: l.name, region: l.region } })
  }
}

export async function createServer(config: ApiConfig): Promise<ApiServer> {
  // The process's V8 heap growth (ApiConfig.heapGrowingPercent): V8 reads it whenever it sets the
  // next full collection's limit, so it applies from here on however the process was started.
  if (config.heapGrowingPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`)
  const app = Fastify({ bodyLimit: config.bodyLimitBytes, logger: false, trustProxy: config.trustProxy })
  const db = createDb(config.databaseUrl)
  const connection = Connection.lazy(temporalConnectOptions(config.temporal))
  const temporal = new Client({ connection, namespace: config.temporal.namespace })
  const storage = createStorage(config.s3)
  const presence = new RunnerPresence(temporal)
  const relay = new ConsoleRelay({ db, temporal, storage, presence, pollMs: config.consolePollMs, queuedPollMs: config.consoleQueuedPollMs })
  let baseUrl = config.publicUrl ?? `http://${config.host}:${config.port}`
  const artifactLinks = new ArtifactLinks(config.artifactSigningKey, config.artifactUrlTtlSeconds, () => baseUrl)
  const tokenLimiter = new TokenRateLimiter(config.tokenRateLimitPerMinute)
  // Validation runs k6 (`k6 inspect`) in the same sandbox as runs; without a working sandbox the
  // API does not start (unless the operator turned it off, which is logged and shown by /healthz).
  const sandbox = await K6Sandbox.create({
    mode: config.sandbox.mode,
    k6BinPath: config.k6BinPath ?? (await resolveTool('k6')).path,
    root: path.join(os.tmpdir(), 'stampede-validation'),
    log: (line) => console.warn(`[api] ${line}`),
  })
  const validation = { sandbox, gate: new ValidationGate(config.validation), cache: new InspectCache() }
  const runLists = new RunListCache(config.runListCacheBytes)
  const services: Services = { config, db, temporal, storage, presence, runLists, relay, artifactLinks, tokenLimiter, validation }

  const requestInfo = (req: FastifyRequest): RequestInfo => ({
    authorization: req.headers.authorization,
    cookie: req.headers.cookie,
    origin: req.headers.origin,
    csrf: typeof req.headers['x-stampede-csrf'] === 'string' ? req.headers['x-stampede-csrf'] : undefined,
    address: req.ip,
    userAgent: req.headers['user-agent'],
  })

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && req.routeOptions.url === FILE_UPLOAD_PATH) {
      return reply.code(413).send({ error: { message: uploadTooLargeMessage(config.files.maxTotalBytes), code: 'PAYLOAD_TOO_LARGE' } })
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: { message: `request body is larger than this API accepts (${config.bodyLimitBytes} bytes, API_BODY_LIMIT); scripts may be at most 500 KB`, code: 'PAYLOAD_TOO_LARGE' } })
    }
    const status = err.statusCode ?? 500
    if (status < 500) return reply.code(status).send({ error: { message: err.message } })
    // The route, not the URL, for the log: links carry signatures.
    const where = `${req.method} ${req.routeOptions.url ?? 'unknown route'}`
    // The database, Temporal or S3 out of reach: 503 naming the part; the log has the error.
    const fault = classifyFault(err)
    if (fault) {
      reportFault(fault.message, err, where)
      return reply.code(503).send({ error: { message: fault.message, code: 'SERVICE_UNAVAILABLE' } })
    }
    // Unexpected: the client gets an error id, the log the error.
    return reply.code(status).send({ error: { message: reportInternalError(err, where) } })
  })

  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin
    if (origin && config.webOrigins.includes(origin)) {
      reply.header('access-control-allow-origin', origin)
      reply.header('vary', 'origin')
      reply.header('access-control-allow-credentials', 'true')
      reply.header('access-control-allow-headers', 'content-type, authorization, x-stampede-client, x-stampede-csrf, trpc-accept')
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS')
      if (req.method === 'OPTIONS') return reply.code(204).send()
    }
  })

  // No permessage-deflate: a console frame is serialised once and sent to every viewer as is.
  await app.register(websocket, { options: { maxPayload: 64 * 1024, perMessageDeflate: false } })
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      createContext: ({ req, res }) =>
        createInnerContext(services, {
          client: req.headers['x-stampede-client'] as string | undefined,
          request: requestInfo(req),
          setCookie: (value) => void res.header('set-cookie', value),
        }),
      // Unexpected errors are logged with their id by the error formatter; deliberate internal
      // errors (Temporal unreachable, …) are logged here, as the client saw them.
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR' && !isUnexpectedError(error)) console.error(`[api] ${path ?? '?'}: ${error.message}`)
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  })

  registerFileUpload(app, services, requestInfo)

  /**
   * The console WebSocket goes through the same access checks as runs.byId: a session cookie
   * (only from the web UI's origins: browsers do not apply CORS to WebSockets) or a bearer token.
   */
  async function authorizeConsole(request: RequestInfo, runId: string): Promise<void> {
    const actor = await resolveActor(db, request)
    if (!actor) throw new ConsoleRefused('not signed in: send a session cookie or `Authorization: Bearer <token>`')
    if (actor.kind === 'user' && request.origin !== undefined && !config.webOrigins.includes(request.origin)) {
      throw new ConsoleRefused(`connections from ${request.origin} may not use a Stampede session; use an API token`)
    }
    if (actor.kind === 'token') tokenLimiter.take(actor.id, actor.name)
    await new Access(db, actor, 'read').run(runId)
  }

  app.get<{ Params: { runId: string }; Querystring: { after?: string; metrics?: string } }>('/ws/runs/:runId/console', { websocket: true }, (socket, req) => {
    const send = (message: ConsoleMessage) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message))
    }
    const runId = runIdSchema.safeParse(req.params.runId)
    const after = req.query.after === undefined ? 0 : Number(req.query.after)
    // Metric frames only for viewers that ask: `metrics=<start of the last frame held>` (0: from the first).
    const metricsAfter = req.query.metrics === undefined ? undefined : Number(req.query.metrics)
    const problem = !runId.success
      ? 'runId must be a run UUID'
      : !Number.isInteger(after) || after < 0
        ? 'after must be a non-negative whole number (the last seq you received)'
        : metricsAfter !== undefined && (!Number.isSafeInteger(metricsAfter) || metricsAfter < 0)
          ? 'metrics must be a non-negative whole number: the start (Unix ms) of the last metric frame you received, or 0 for all'
          : undefined
    if (!runId.success || problem !== undefined) {
      send({ type: 'error', message: problem ?? 'runId must be a run UUID' })
      socket.close(1008)
      return
    }
    let detach: (() => void) | undefined
    let closed = false
    socket.on('close', () => {
      closed = true
      detach?.()
    })
    authorizeConsole(requestInfo(req), runId.data)
      .then(() =>
        closed
          ? () => {}
          : relay.attach(runId.data, after, {
              send,
              // One Buffer per frame, shared by every viewer of it, written as a text message
              // (uncompressed: permessage-deflate is off, see the websocket registration).
              sendSerialised: (data) => {
                if (socket.readyState === socket.OPEN) socket.send(data, { binary: false })
              },
              get bufferedAmount() {
                return socket.bufferedAmount
              },
              close: (code = 1000) => socket.close(code),
            }, metricsAfter === undefined ? {} : { metricsAfter }),
      )
      .then((d) => {
        if (closed) d()
        else detach = d
      })
      .catch((err: unknown) => {
        // Refusals keep their words; anything else says which part is down, or gives an error id.
        const refused = err instanceof ConsoleRefused || (err instanceof TRPCError && err.code !== 'INTERNAL_SERVER_ERROR')
        send({ type: 'error', message: refused ? (err as Error).message : `console unavailable: ${publicErrorMessage(err, 'console WebSocket')}` })
        // 1011 tells clients (the SDK) that a retry may help.
        socket.close(refused ? 1008 : 1011)
      })
  })

  app.get<{ Params: { runId: string; name: string }; Querystring: { expires?: string; sig?: string } }>('/artifacts/:runId/:name', async (req, reply) => {
    const name = artifactNameSchema.safeParse(req.params.name)
    const runId = runIdSchema.safeParse(req.params.runId)
    if (!name.success || !runId.success) return reply.code(404).send({ error: 'no such artifact' })
    const verdict = artifactLinks.verify(runId.data, name.data, req.query.expires, req.query.sig)
    if (verdict !== 'ok') {
      return reply.code(403).send({ error: verdict === 'expired' ? 'this artifact link has expired; ask runs.artifactUrl for a new one' : 'invalid artifact link signature' })
    }
    const def = ARTIFACTS[name.data]
    try {
      const object = await storage.getStream(artifactKey(runId.data, def.file))
      reply.header('content-type', def.contentType)
      reply.header('cache-control', 'private, max-age=300')
      reply.header('x-content-type-options', 'nosniff')
      if (object.bytes !== undefined) reply.header('content-length', object.bytes)
      if (name.data === 'report') {
        reply.header('content-security-policy', REPORT_CSP)
        reply.header('content-disposition', `inline; filename="${def.file}"`)
      } else {
        reply.header('content-disposition', `attachment; filename="${runId.data}-${def.file}"`)
      }
      return reply.send(object.body)
    } catch (err) {
      if (err instanceof ArtifactNotFoundError) return reply.code(404).send({ error: `run ${runId.data} has no ${def.file}` })
      throw err
    }
  })

  registerRunnerSecrets(app, { db, secretsKey: config.secretsKey })

  // Each check is bounded (2 s) and a report is reused for 1 s, so /healthz cannot hammer the services.
  const health = createHealthProbe({
    database: () => db.$queryRaw`SELECT 1`,
    // The namespace the API works in, not just the server: a missing namespace breaks every run.
    temporal: (ms) =>
      connection
        .withDeadline(Date.now() + ms, () => connection.workflowService.describeNamespace({ namespace: config.temporal.namespace }))
        .catch((err: unknown) => {
          // gRPC NOT_FOUND: the server answers but has no such namespace.
          if ((err as { code?: unknown }).code === 5) throw new HealthCheckFailed(`Temporal has no namespace "${config.temporal.namespace}" (TEMPORAL_NAMESPACE)`)
          throw err
        }),
    storage: () => storage.ping(),
  })

  app.get('/healthz', async (_req, reply) => {
    const report = await health()
    // The first fields as before (`s3` is the `storage` part), each `{ ok, error? }` in plain words.
    const summary = (part: Part) => (report.parts[part].ok ? { ok: true } : { ok: false, error: report.parts[part].detail })
    // Which sandbox k6 runs in here; `off` is healthy but says so.
    const { mode, detail } = sandbox.status()
    return reply
      .code(report.ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({
        ok: report.ok,
        version: API_VERSION,
        database: summary('database'),
        temporal: summary('temporal'),
        s3: summary('storage'),
        sandbox: { ok: true, mode, detail },
        down: report.down,
        parts: report.parts,
      })
  })

  let bootstrapLink: string | null = null
  let lastReconcile: string[] = []
  return {
    app,
    services,
    get scheduleDrift() {
      return lastReconcile
    },
    get bootstrapLink() {
      return bootstrapLink
    },
    async start() {
      await syncLocations(db, config)
      await storage.ensureBucket().catch((err: unknown) => console.warn(`[api] S3 bucket check failed: ${(err as Error).message}`))
      const address = await app.listen({ host: config.host, port: config.port })
      if (!config.publicUrl) baseUrl = address.replace('[::1]', '127.0.0.1')
      // Temporal's schedules must match the jobs table; repair and report any drift.
      await reconcileSchedules(db, temporal)
        .then((report) => {
          lastReconcile = report
          for (const line of report) console.warn(`[api] schedule drift repaired: ${line}`)
        })
        .catch((err: unknown) => console.warn(`[api] could not reconcile job schedules with Temporal: ${(err as Error).message}`))
      const bootstrap = await prepareBootstrap(db, config.bootstrapToken)
      if (bootstrap && !config.bootstrapToken) bootstrapLink = `${config.webPublicUrl ?? config.webOrigins[0] ?? baseUrl}/setup#token=${bootstrap}`
      return baseUrl
    },
    async stop() {
      await relay.stop()
      await app.close()
      await connection.close().catch(() => {})
      await db.$disconnect()
      storage.destroy()
    },
  }
}
