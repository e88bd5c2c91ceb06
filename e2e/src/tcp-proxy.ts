// A TCP relay the fault tests put between the platform and one of its services (Postgres, S3)
// so they can take that service away and give it back without touching the service itself.
//
// Hand-written on node:net rather than taken from a library: the maintained proxies (toxiproxy,
// http-proxy and friends) are either separate daemons driven over their own HTTP API or
// HTTP-level, and none of them can, in-process, do what an outage test needs: drop every open
// connection at once and refuse new ones at the socket level until told otherwise, on the same
// address. That is a few dozen lines here.
//
// `cut()` looks like a real outage to clients: every open connection (both halves) is reset
// (RST, as when a host or network drops it), and the listening socket is closed, so new
// connections are refused (ECONNREFUSED) rather than accepted and left hanging. `restore()`
// listens again on the same host and port, and fails loudly if that port is no longer ours.
import net from 'node:net'

export interface TcpProxyOptions {
  /** The address to listen on (an IP address). */
  listenHost: string
  /** The port to listen on; 0 or undefined picks a free one (kept across cut/restore). */
  listenPort?: number
  /** Where connections are relayed to. */
  target: { host: string; port: number }
}

export interface TcpProxy {
  /** Where clients connect: the proxy's address. */
  readonly host: string
  readonly port: number
  /** True between cut() and restore(). */
  readonly isCut: boolean
  /** Client connections open right now. */
  readonly connections: number
  /** Client connections accepted since the proxy started (across restores). */
  readonly accepted: number
  /** Resets every open connection and stops listening: new connections are refused. */
  cut(): Promise<void>
  /** Listens again on the same address; rejects if the port cannot be bound again. */
  restore(): Promise<void>
  stop(): Promise<void>
}

const REBIND_ATTEMPTS = 20
const REBIND_PAUSE_MS = 50

export async function startTcpProxy(opts: TcpProxyOptions): Promise<TcpProxy> {
  const { listenHost, target } = opts
  // Every socket the relay owns, client and upstream halves alike.
  const sockets = new Set<net.Socket>()
  let clients = 0
  let accepted = 0
  let cut = false
  let stopped = false

  const track = (socket: net.Socket): void => {
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('close', () => sockets.delete(socket))
    // A reset half is destroyed with its partner by the close handlers below.
    socket.on('error', () => socket.destroy())
  }

  const onConnection = (client: net.Socket): void => {
    // A connection the kernel accepted just before the cut: it is part of the outage.
    if (cut || stopped) return void client.resetAndDestroy()
    accepted++
    clients++
    client.on('close', () => clients--)
    track(client)
    client.pause()
    const upstream = net.connect({ host: target.host, port: target.port })
    track(upstream)
    // Either half closing (or being reset) takes the other with it, the way a direct
    // connection would end; a refused upstream resets the client.
    upstream.on('close', (hadError) => (hadError ? client.resetAndDestroy() : client.destroy()))
    client.on('close', (hadError) => (hadError ? upstream.resetAndDestroy() : upstream.destroy()))
    upstream.on('connect', () => {
      client.pipe(upstream).pipe(client)
      client.resume()
    })
  }

  const listen = (server: net.Server, port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err)
      server.once('error', onError)
      server.listen({ host: listenHost, port, exclusive: true }, () => {
        server.off('error', onError)
        resolve()
      })
    })

  // Resolves once the listener is closed and every connection is gone (its 'close' emitted), so
  // that when cut() returns no client still holds a working connection.
  const close = (server: net.Server): Promise<void> => {
    const open = [...sockets]
    const gone = open.map((s) => (s.closed ? undefined : new Promise<void>((resolve) => s.once('close', () => resolve()))))
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    // close() waits for open connections; an outage does not.
    for (const s of open) s.resetAndDestroy()
    return Promise.all([closed, ...gone]).then(() => undefined)
  }

  let server = net.createServer({ pauseOnConnect: true }, onConnection)
  await listen(server, opts.listenPort ?? 0)
  const port = (server.address() as net.AddressInfo).port

  return {
    host: listenHost,
    port,
    get isCut() {
      return cut
    },
    get connections() {
      return clients
    },
    get accepted() {
      return accepted
    },
    async cut() {
      if (stopped) throw new Error('proxy stopped')
      if (cut) return
      cut = true
      await close(server)
    },
    async restore() {
      if (stopped) throw new Error('proxy stopped')
      if (!cut) return
      // SO_REUSEADDR (set by Node) lets the port be bound again at once; EADDRINUSE here means
      // another program took it while we were cut, which a brief retry will not usually fix.
      for (let attempt = 1; ; attempt++) {
        const next = net.createServer({ pauseOnConnect: true }, onConnection)
        try {
          await listen(next, port)
        } catch (err) {
          if (attempt >= REBIND_ATTEMPTS) {
            throw new Error(`tcp proxy: could not listen on ${listenHost}:${port} again after a cut: ${(err as Error).message}`, { cause: err })
          }
          await new Promise((r) => setTimeout(r, REBIND_PAUSE_MS))
          continue
        }
        const bound = next.address() as net.AddressInfo | null
        if (bound?.port !== port || bound.address !== listenHost) {
          await new Promise<void>((r) => next.close(() => r()))
          throw new Error(`tcp proxy: re-listened on ${bound?.address}:${bound?.port}, not ${listenHost}:${port}`)
        }
        server = next
        cut = false
        return
      }
    },
    async stop() {
      if (stopped) return
      stopped = true
      if (!cut) await close(server)
      for (const s of sockets) s.destroy()
    },
  }
}
