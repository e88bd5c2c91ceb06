// Postgres wire-protocol front-end for one PGlite instance, used instead of pglite-socket's
// PGLiteSocketServer. PGlite is a single backend shared by every connection, so a connection must
// own it for a whole protocol unit: from its first message until the backend reports
// ReadyForQuery with status idle ('I'). That covers extended-protocol batches (Parse … Sync),
// COPY, and explicit transactions. pglite-socket 0.1.3 serialises single messages instead, so a
// second client's Parse can land between another client's Parse and Bind (seen in tests as "bind"
// values applied to the wrong statement); it also defaults to one connection at a time.
import net from 'node:net'
import type { PGlite } from '@electric-sql/pglite'

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4])

/** FIFO mutex naming its owner, so one connection can keep it across many messages. */
class BackendGate {
  private owner: number | undefined
  private readonly waiters: Array<{ id: number; grant: () => void }> = []

  async acquire(id: number): Promise<void> {
    if (this.owner === id) return
    if (this.owner === undefined && this.waiters.length === 0) {
      this.owner = id
      return
    }
    await new Promise<void>((grant) => this.waiters.push({ id, grant }))
  }

  holds(id: number): boolean {
    return this.owner === id
  }

  release(id: number): void {
    if (this.owner !== id) return
    const next = this.waiters.shift()
    this.owner = next?.id
    next?.grant()
  }

  /** Drop a connection that is still waiting (it disconnected). */
  forget(id: number): void {
    const i = this.waiters.findIndex((w) => w.id === id)
    if (i !== -1) this.waiters.splice(i, 1)
  }
}

/** Scans the backend's output for ReadyForQuery ('Z') and remembers its transaction status. */
class ReadyScanner {
  private pending = Buffer.alloc(0)
  status: string | undefined

  feed(chunk: Uint8Array): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk)
    let pos = 0
    while (this.pending.length - pos >= 5) {
      const type = this.pending[pos]
      const len = this.pending.readInt32BE(pos + 1)
      if (this.pending.length - pos < 1 + len) break
      if (type === 0x5a /* Z */) this.status = String.fromCharCode(this.pending[pos + 5] ?? 0)
      pos += 1 + len
    }
    this.pending = this.pending.subarray(pos)
  }
}

export interface WireServer {
  port: number
  stop(): Promise<void>
}

export async function serveWire(db: PGlite, opts: { host: string; port: number }): Promise<WireServer> {
  const gate = new BackendGate()
  const sockets = new Set<net.Socket>()
  let nextId = 1

  const server = net.createServer((socket) => {
    const id = nextId++
    sockets.add(socket)
    socket.setNoDelay(true)
    let buffer: Buffer = Buffer.alloc(0)
    let started = false
    let closed = false
    const scanner = new ReadyScanner()
    // Messages of one connection are handled strictly in order.
    let chain: Promise<void> = Promise.resolve()

    const run = async (message: Uint8Array): Promise<void> => {
      await gate.acquire(id)
      if (closed) return
      scanner.status = undefined
      await db.runExclusive(() =>
        db.execProtocolRawStream(message, {
          onRawData: (data) => {
            scanner.feed(data)
            if (!socket.destroyed) socket.write(data)
          },
        }),
      )
      if (scanner.status === 'I') gate.release(id)
    }

    const enqueue = (message: Uint8Array): void => {
      chain = chain
        .then(() => run(message))
        .catch((err: unknown) => {
          socket.destroy(err instanceof Error ? err : new Error(String(err)))
        })
    }

    const cleanup = async (): Promise<void> => {
      if (!gate.holds(id)) return
      // The connection left mid-unit: finish the unit and roll back so the backend is idle for
      // the next connection (an error state would make it ignore messages until a Sync).
      try {
        await db.runExclusive(() => db.execProtocolRawStream(SYNC, { onRawData: () => {} }))
        if (db.isInTransaction()) await db.runExclusive(() => db.execProtocolRawStream(simpleQuery('ROLLBACK'), { onRawData: () => {} }))
      } finally {
        gate.release(id)
      }
    }

    const onData = (chunk: Buffer): void => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk
      for (;;) {
        if (!started) {
          if (buffer.length < 8) return
          const len = buffer.readInt32BE(0)
          if (buffer.length < len) return
          const code = buffer.readInt32BE(4)
          const startup = buffer.subarray(0, len)
          buffer = buffer.subarray(len)
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            socket.write('N') // no encryption; the client continues in plain text
            continue
          }
          if (code === CANCEL_REQUEST) {
            socket.end() // queries cannot be cancelled in PGlite
            return
          }
          started = true
          enqueue(Uint8Array.from(startup))
          continue
        }
        if (buffer.length < 5) return
        const len = buffer.readInt32BE(1)
        if (buffer.length < 1 + len) return
        const message = Uint8Array.from(buffer.subarray(0, 1 + len))
        buffer = buffer.subarray(1 + len)
        if (message[0] === 0x58 /* X: Terminate */) {
          socket.end()
          return
        }
        enqueue(message)
      }
    }

    socket.on('data', onData)
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      closed = true
      sockets.delete(socket)
      // A connection still waiting for the backend just leaves the queue; one holding it
      // releases it once its in-flight message is done.
      gate.forget(id)
      chain = chain.then(cleanup).catch(() => gate.release(id))
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (!address || typeof address !== 'object') throw new Error('embedded Postgres: no listening address')

  return {
    port: address.port,
    async stop() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of sockets) s.destroy()
      await closing
    },
  }
}

function simpleQuery(sql: string): Uint8Array {
  const body = Buffer.from(`${sql}\0`, 'utf8')
  const msg = Buffer.alloc(5 + body.length)
  msg.write('Q', 0, 'latin1')
  msg.writeInt32BE(4 + body.length, 1)
  body.copy(msg, 5)
  return msg
}
