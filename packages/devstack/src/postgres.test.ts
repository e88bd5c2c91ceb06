import path from 'node:path'
import os from 'node:os'
import { mkdtemp } from 'node:fs/promises'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { startEmbeddedPostgres } from './postgres.ts'
import type { EmbeddedPostgres } from './postgres.ts'

const running: EmbeddedPostgres[] = []
const clients: pg.Client[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})))
  await Promise.all(running.splice(0).map((s) => s.stop()))
})

async function start(dataDir: string): Promise<EmbeddedPostgres> {
  const s = await startEmbeddedPostgres({ dataDir })
  running.push(s)
  return s
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url })
  clients.push(c)
  await c.connect()
  return c
}

describe('embedded Postgres', () => {
  it('stores data that survives a restart from the same data dir', { timeout: 60_000 }, async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'stampede-pg-'))
    const first = await start(dataDir)
    expect(first.url).toMatch(/^postgresql:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres\?sslmode=disable$/)
    const c = await connect(first.url)
    await c.query('create table runs (id serial primary key, name text not null)')
    await c.query('insert into runs (name) values ($1), ($2)', ['smoke', 'soak'])
    expect((await c.query('select name from runs order by id')).rows).toEqual([{ name: 'smoke' }, { name: 'soak' }])
    await c.end()
    await first.stop()

    const second = await start(dataDir)
    const c2 = await connect(second.url)
    expect((await c2.query('select name from runs order by id')).rows).toEqual([{ name: 'smoke' }, { name: 'soak' }])
  })

  it("listens on the host it is given, such as the platform's reserved loopback address, and nowhere else", { timeout: 60_000 }, async () => {
    const s = await startEmbeddedPostgres({ dataDir: await mkdtemp(path.join(os.tmpdir(), 'stampede-pg-')), host: '127.77.0.1' })
    running.push(s)
    expect(s.url).toMatch(/^postgresql:\/\/postgres:postgres@127\.77\.0\.1:\d+\/postgres\?sslmode=disable$/)
    const c = await connect(s.url)
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    const elsewhere = new URL(s.url)
    elsewhere.hostname = '127.0.0.1'
    await expect(connect(elsewhere.toString())).rejects.toThrow(/ECONNREFUSED/)
  })

  it('refuses a host that is not an IP address, naming the option', async () => {
    await expect(startEmbeddedPostgres({ dataDir: os.tmpdir(), host: 'localhost' })).rejects.toThrow(
      'host: "localhost" is not an IP address; give the address the embedded Postgres should listen on, such as 127.77.0.1',
    )
  })

  it('serves concurrent clients without mixing up their statements, even with large parameters', { timeout: 60_000 }, async () => {
    const s = await start(await mkdtemp(path.join(os.tmpdir(), 'stampede-pg-')))
    const a = await connect(s.url)
    const b = await connect(s.url)
    await a.query('create table blobs (id int primary key, body text not null)')
    // A 2 MB parameter reaches the server in many TCP chunks; the other client's extended-protocol
    // batches must not run between this client's Parse and Bind (pglite-socket 0.1.3 lets them).
    const big = 'x'.repeat(2_000_000)
    let writerDone = false
    const writer = (async () => {
      try {
        for (let i = 0; i < 10; i++) {
          const r = await a.query<{ id: number; len: number }>('insert into blobs values ($1, $2) returning id, length(body) as len', [i, big])
          expect(r.rows[0]).toEqual({ id: i, len: big.length })
        }
      } finally {
        writerDone = true
      }
    })()
    const reader = (async () => {
      let n = 0
      while (!writerDone) {
        n++
        const r = await b.query<{ s: string; k: number }>("select $1::text || '!' as s, $2::int as k", [`v${n}`, n])
        expect(r.rows[0]).toEqual({ s: `v${n}!`, k: n })
      }
      return n
    })()
    const [, reads] = await Promise.all([writer, reader])
    expect(reads).toBeGreaterThan(1)
    expect((await b.query('select count(*)::int as n from blobs')).rows[0]).toEqual({ n: 10 })
  })

  it('makes other connections wait while one holds a transaction open', { timeout: 60_000 }, async () => {
    const s = await start(await mkdtemp(path.join(os.tmpdir(), 'stampede-pg-')))
    const a = await connect(s.url)
    const b = await connect(s.url)
    await a.query('create table t (v int)')
    await a.query('begin')
    await a.query('insert into t values (1)')
    let bDone = false
    const bQuery = b.query<{ n: number }>('select count(*)::int as n from t').then((r) => {
      bDone = true
      return r.rows[0]
    })
    // a keeps working inside its transaction while b waits
    await a.query('insert into t values (2)')
    expect(bDone).toBe(false)
    await a.query('commit')
    expect(await bQuery).toEqual({ n: 2 })
  })

  it('rolls back a transaction left open by a client that disconnects', { timeout: 60_000 }, async () => {
    const s = await start(await mkdtemp(path.join(os.tmpdir(), 'stampede-pg-')))
    const a = await connect(s.url)
    await a.query('create table t (v int)')
    await a.query('begin')
    await a.query('insert into t values (1)')
    await a.end()
    const b = await connect(s.url)
    expect((await b.query('select count(*)::int as n from t')).rows[0]).toEqual({ n: 0 })
  })
})
