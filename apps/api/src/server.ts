// createServer(config) → { app, start, stop }: the API process. Fastify serves tRPC at /trpc,
// the live console WebSocket at /ws/runs/<runId>/console?after=<seq>, signed artifact links at
// /artifacts/<runId>/<name>, and GET /healthz.
import Fastify, { type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify'
import { Client, Connection } from '@temporalio/client'
import { createDb, type Db } from '@stampede/db'
import { ARTIFACTS, artifactNameSchema, runIdSchema, type ConsoleMessage } from '@stampede/shared'
import { createStorage, ArtifactNotFoundError } from '@stampede/storage'
import { ArtifactLinks, REPORT_CSP } from './artifacts/links.ts'
import { ConsoleRelay } from './console/relay.ts'
import { createInnerContext, type Services } from './context.ts'
import type { ApiConfig } from './env.ts'
import { appRouter, type AppRouter } from './router/root.ts'
import { RunnerPresence } from './runs/presence.ts'

export interface ApiServer {
  app: FastifyInstance
  services: Services
  /** Listens and returns the base URL. */
  start(): Promise<string>
  stop(): Promise<void>
}

/** Scripts are capped at 500 KB; leave room for JSON escaping. */
const BODY_LIMIT = 2 * 1024 * 1024

async function syncLocations(db: Db, config: ApiConfig): Promise<void> {
  for (const l of config.locations) {
    await db.location.upsert({ where: { id: l.id }, create: { id: l.id, name: l.name, region: l.region }, update: { name: l.name, region: l.region } })
  }
}

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await fn()
    return { ok: true }
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) }
  }
}

export async function createServer(config: ApiConfig): Promise<ApiServer> {
  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false })
  const db = createDb(config.databaseUrl)
  const connection = Connection.lazy({ address: config.temporal.address })
  const temporal = new Client({ connection, namespace: config.temporal.namespace })
  const storage = createStorage(config.s3)
  const presence = new RunnerPresence(temporal, config.temporal.namespace)
  const relay = new ConsoleRelay({ db, temporal, storage, presence, pollMs: config.consolePollMs })
  let baseUrl = config.publicUrl ?? `http://${config.host}:${config.port}`
  const artifactLinks = new ArtifactLinks(config.artifactSigningKey, config.artifactUrlTtlSeconds, () => baseUrl)
  const services: Services = { config, db, temporal, storage, presence, relay, artifactLinks }

  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin
    if (origin && config.webOrigins.includes(origin)) {
      reply.header('access-control-allow-origin', origin)
      reply.header('vary', 'origin')
      reply.header('access-control-allow-headers', 'content-type, authorization, x-stampede-client, trpc-accept')
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS')
      if (req.method === 'OPTIONS') return reply.code(204).send()
    }
  })

  await app.register(websocket, { options: { maxPayload: 64 * 1024 } })
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      createContext: ({ req }) => createInnerContext(services, { client: req.headers['x-stampede-client'] as string | undefined }),
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`[api] ${path ?? '?'}: ${error.message}`)
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  })

  app.get<{ Params: { runId: string }; Querystring: { after?: string } }>('/ws/runs/:runId/console', { websocket: true }, (socket, req) => {
    const send = (message: ConsoleMessage) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message))
    }
    const runId = runIdSchema.safeParse(req.params.runId)
    const after = req.query.after === undefined ? 0 : Number(req.query.after)
    if (!runId.success || !Number.isInteger(after) || after < 0) {
      send({ type: 'error', message: !runId.success ? 'runId must be a run UUID' : 'after must be a non-negative whole number (the last seq you received)' })
      socket.close(1008)
      return
    }
    let detach: (() => void) | undefined
    let closed = false
    socket.on('close', () => {
      closed = true
      detach?.()
    })
    relay
      .attach(runId.data, after, { send, close: () => socket.close(1000) })
      .then((d) => {
        if (closed) d()
        else detach = d
      })
      .catch((err: unknown) => {
        send({ type: 'error', message: `console unavailable: ${err instanceof Error ? err.message : String(err)}` })
        socket.close(1011)
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
      const object = await storage.getStream(`runs/${runId.data}/${def.file}`)
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

  app.get('/healthz', async (_req, reply) => {
    const [database, temporalCheck, s3] = await Promise.all([
      check(() => db.$queryRaw`SELECT 1`),
      check(() => connection.healthService.check({})),
      check(() => storage.ping()),
    ])
    const ok = database.ok && temporalCheck.ok && s3.ok
    return reply.code(ok ? 200 : 503).send({ ok, database, temporal: temporalCheck, s3 })
  })

  return {
    app,
    services,
    async start() {
      await syncLocations(db, config)
      await storage.ensureBucket().catch((err: unknown) => console.warn(`[api] S3 bucket check failed: ${(err as Error).message}`))
      const address = await app.listen({ host: config.host, port: config.port })
      if (!config.publicUrl) baseUrl = address.replace('[::1]', '127.0.0.1')
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
