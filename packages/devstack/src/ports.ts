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
