// Embedded Postgres: PGlite (Postgres 17 in WebAssembly) persisted in `dataDir`, served over the
// Postgres wire protocol on `host` (default 127.0.0.1; in single-machine mode the platform's
// reserved loopback address) so ordinary clients (pg, Prisma) connect. PGlite is one
// backend: connections take turns per protocol unit, and an open transaction holds every other
// connection until it ends (see pgwire.ts for why this is not pglite-socket's server).
import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { serveWire } from './pgwire.ts'
import { hostPort, listenHost } from './ports.ts'

export interface EmbeddedPostgres {
  url: string
  stop(): Promise<void>
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string
  /** The address to listen on; default 127.0.0.1. */
  host?: string
  port?: number
}): Promise<EmbeddedPostgres> {
  const host = listenHost(opts.host, 'the embedded Postgres')
  await mkdir(opts.dataDir, { recursive: true })
  const db = await PGlite.create(opts.dataDir)
  let server
  try {
    server = await serveWire(db, { host, port: opts.port ?? 0 })
  } catch (err) {
    await db.close()
    throw err
  }
  const { port } = server

  let stopped: Promise<void> | undefined
  return {
    // PGlite has a single user and database, both `postgres`; it does not check the password.
    url: `postgresql://postgres:postgres@${hostPort(host, port)}/postgres?sslmode=disable`,
    stop() {
      stopped ??= (async () => {
        await server.stop()
        await db.close()
      })()
      return stopped
    },
  }
}
