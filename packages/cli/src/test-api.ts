// A stand-in Stampede API for the CLI's tests: tRPC's plain-JSON HTTP protocol on a local port
// (each procedure answered by a function of its input), plus any plain routes a test adds (e.g.
// POST /files). Every call is recorded with its input.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type Answers = Record<string, (input: Record<string, unknown>) => unknown>

/** A plain route: answers with a JSON body, or null to fall through to tRPC. */
export type Route = (req: http.IncomingMessage, url: URL, body: Buffer) => unknown

export interface StandInApi {
  url: string
  /** Each call: the procedure (or `METHOD /path`) and its input. */
  calls: { path: string; input: unknown }[]
  close(): Promise<void>
}

export async function standInApi(answers: Answers, routes: Record<string, Route> = {}): Promise<StandInApi> {
  const calls: StandInApi['calls'] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x')
      const body = Buffer.concat(chunks)
      res.setHeader('content-type', 'application/json')
      const route = routes[`${req.method} ${u.pathname}`]
      if (route) return void res.end(JSON.stringify(route(req, u, body)))
      const procedure = u.pathname.replace(/^\/trpc\//, '')
      const raw = req.method === 'POST' ? body.toString() : u.searchParams.get('input')
      const input = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>
      calls.push({ path: procedure, input })
      const answer = answers[procedure]
      if (!answer) {
        res.statusCode = 404
        res.end(JSON.stringify({ error: { message: `no procedure ${procedure}`, code: -32004, data: { code: 'NOT_FOUND', httpStatus: 404 } } }))
        return
      }
      res.end(JSON.stringify({ result: { data: answer(input) } }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
