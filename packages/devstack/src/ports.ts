// Free-port discovery for embedded services. The port is free when returned; another process
// could take it before the caller binds, which is acceptable for local development and tests.
import net from 'node:net'

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : undefined
      server.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))))
    })
  })
}

/** `host` (default 127.0.0.1) as the address `what` listens on; throws unless it is an IP address. */
export function listenHost(host: string | undefined, what: string): string {
  const value = host ?? '127.0.0.1'
  if (net.isIP(value) === 0) throw new Error(`host: "${value}" is not an IP address; give the address ${what} should listen on, such as 127.77.0.1`)
  return value
}

/** `host:port`, an IPv6 host in brackets. */
export function hostPort(host: string, port: number | string): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`
}
