// A load target on 127.0.0.1 that counts what it receives, so tests can compare k6's request
// count with what really arrived.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Target {
  url: string
  readonly count: number
  /** Requests received on one path (e.g. '/run-3') since the last reset. */
  countOf(path: string): number
  /** Headers of the requests received since the last reset (lower-case names). */
  readonly headers: readonly http.IncomingHttpHeaders[]
  reset(): void
  /** Resolves when the first request after this call arrives; returns its arrival time. */
  nextRequest(): Promise<number>
  stop(): Promise<void>
}

export async function startTarget(): Promise<Target> {
  let count = 0
  let byPath = new Map<string, number>()
  let headers: http.IncomingHttpHeaders[] = []
  let waiters: ((at: number) => void)[] = []
  const server = http.createServer((req, res) => {
    count++
    headers.push(req.headers)
    const at = Date.now()
    const w = waiters
    waiters = []
    for (const resolve of w) resolve(at)
    const url = new URL(req.url ?? '/', 'http://x')
    byPath.set(url.pathname, (byPath.get(url.pathname) ?? 0) + 1)
    const status = Number(url.searchParams.get('status') ?? 200)
    const delay = Number(url.searchParams.get('delay') ?? 0)
    const reply = () => {
      res.writeHead(status, { 'content-type': 'text/plain' })
      res.end('ok\n')
    }
    if (delay > 0) setTimeout(reply, delay)
    else reply()
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return count
    },
    countOf(path: string) {
      return byPath.get(path) ?? 0
    },
    get headers() {
      return headers
    },
    reset() {
      count = 0
      byPath = new Map()
      headers = []
    },
    nextRequest() {
      return new Promise((resolve) => waiters.push(resolve))
    },
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
