// The base procedure's input guard and the error formatter, through tRPC's own HTTP handling:
// a NUL character anywhere in the input is refused with its path, an unexpected error reaches
// the client as an error id only, while deliberate errors keep their messages, and the database
// or S3 out of reach answers SERVICE_UNAVAILABLE naming it.
import { fetchRequestHandler } from '@trpc/server/adapters/fetch'
import { TRPCError } from '@trpc/server'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { createDb } from '@stampede/db'
import { createStorage } from '@stampede/storage'
import type { Context } from './context.ts'
import { publicProcedure, router, signedInProcedure } from './trpc.ts'
import { reportInternalError } from './faults.ts'
import { closedPort } from './closed-port.ts'

const INTERNAL_TEXT = 'invalid byte sequence for encoding "UTF8": 0x00 at /srv/stampede/apps/api/src/router/tests.ts:42 in INSERT INTO "public"."tests"'

const testRouter = router({
  echo: publicProcedure
    .input(z.object({ name: z.string(), variables: z.array(z.object({ name: z.string(), value: z.string() })).optional(), env: z.record(z.string(), z.string()).optional() }))
    .mutation(({ input }) => input),
  noInput: publicProcedure.query(() => 'ok'),
  bug: publicProcedure.query(() => {
    throw new Error(INTERNAL_TEXT)
  }),
  thrownObject: publicProcedure.query(() => {
    // What a driver may throw: not an Error, with internal details as fields.
    throw Object.assign(Object.create(null) as object, { message: INTERNAL_TEXT, code: 'P2000' })
  }),
  deliberateInternal: publicProcedure.query(() => {
    throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'could not start the run; is Temporal reachable?', cause: new Error(INTERNAL_TEXT) })
  }),
  notFound: publicProcedure.query(() => {
    throw new TRPCError({ code: 'NOT_FOUND', message: 'run 1 does not exist' })
  }),
})


// The database and S3 out of reach: real clients against closed ports.
const unreachableDb = createDb(`postgresql://postgres@127.0.0.1:${await closedPort()}/stampede`)
const unreachableStorage = createStorage({ endpoint: `http://127.0.0.1:${await closedPort()}`, region: 'us-east-1', bucket: 'stampede', accessKeyId: 'test', secretAccessKey: 'test-secret', forcePathStyle: true })
afterAll(async () => {
  await unreachableDb.$disconnect()
  unreachableStorage.destroy()
})

const faultRouter = router({
  readsDatabase: publicProcedure.query(({ ctx }) => ctx.db.run.findMany()),
  readsStorage: publicProcedure.query(({ ctx }) => ctx.storage.getBytes('runs/x/console.log')),
  signedIn: signedInProcedure.query(() => 'never reached'),
})
const faultContext = (request: Context['request']) => ({ db: unreachableDb, storage: unreachableStorage, request }) as unknown as Context

interface ErrorBody {
  error: { message: string; code: number; data: { code: string; httpStatus: number; issues?: { path: string; message: string }[]; stack?: string } }
}

/** Calls `path` with `input`, or with `json` as the raw input text. */
async function call(path: string, input?: unknown, method: 'GET' | 'POST' = 'GET', json = JSON.stringify(input)): Promise<{ status: number; body: ErrorBody }> {
  const url = new URL(`http://api.test/trpc/${path}`)
  if (method === 'GET' && json !== undefined) url.searchParams.set('input', json)
  const req = new Request(url, method === 'POST' ? { method, body: json, headers: { 'content-type': 'application/json' } } : {})
  const res = await fetchRequestHandler({ endpoint: '/trpc', req, router: testRouter, createContext: () => ({}) as Context })
  return { status: res.status, body: (await res.json()) as ErrorBody }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('input with a NUL character', () => {
  it('is refused with the path of every string holding one, nested values and record keys included', async () => {
    const { status, body } = await call('echo', { name: 'ok', variables: [{ name: 'A', value: 'x' }, { name: 'B', value: 'y\u0000' }], env: { GOOD: 'v', ['BA\u0000D']: 'v' } }, 'POST')
    expect(status).toBe(400)
    expect(body.error.message).toBe(
      'variables.1.value: contains a NUL character (\\u0000), which cannot be stored; remove it; env: has a key "BA\\u0000D" that contains a NUL character (\\u0000), which cannot be stored; remove it',
    )
    expect(body.error.message).not.toContain('\u0000')
    expect(body.error.data.issues).toEqual([
      { path: 'variables.1.value', message: expect.stringContaining('NUL character') },
      { path: 'env', message: expect.stringContaining('has a key') },
    ])
  })

  it('is refused for procedures without input and for the input as a whole', async () => {
    const { status, body } = await call('noInput', 'a\u0000b')
    expect(status).toBe(400)
    expect(body.error.message).toBe('input: contains a NUL character (\\u0000), which cannot be stored; remove it')
  })

  it('refuses input nested deeper than any procedure takes, without exhausting the stack', async () => {
    const depth = 100_000
    const { status, body } = await call('echo', undefined, 'POST', `{"name":${'['.repeat(depth)}"leaf"${']'.repeat(depth)}}`)
    expect(status).toBe(400)
    expect(body.error.message).toMatch(/^name(\.0)+: is nested more than 32 levels deep; no Stampede input is$/)
  })

  it('lets clean input through to the schema, whose messages name the field or the input', async () => {
    expect((await call('echo', { name: 'fine', env: { A: 'b' } }, 'POST')).status).toBe(200)
    const wrongType = await call('echo', { name: 5 }, 'POST')
    expect(wrongType.body.error.message).toBe('name: Invalid input: expected string, received number')
    const notAnObject = await call('echo', 'text', 'POST')
    expect(notAnObject.body.error.message).toBe('input: Invalid input: expected object, received string')
  })

  it('names the input when it is not JSON', async () => {
    const { status, body } = await call('echo', undefined, 'POST', '{"name": ')
    expect(status).toBe(400)
    expect(body.error.message).toMatch(/^input: is not valid JSON \(.+\)$/)
  })
})

describe('unexpected errors', () => {
  it('answer INTERNAL_SERVER_ERROR with an error id and none of the error\'s text; the log has both', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    for (const path of ['bug', 'thrownObject']) {
      log.mockClear()
      const { status, body } = await call(path)
      expect(status).toBe(500)
      expect(body.error.data.code).toBe('INTERNAL_SERVER_ERROR')
      const id = /^internal error ([0-9a-f]{16}); the server log has the details under this id$/.exec(body.error.message)?.[1]
      expect(id, body.error.message).toBeDefined()
      const text = JSON.stringify(body)
      for (const leak of ['UTF8', '/srv/', 'tests.ts', 'INSERT', 'P2000']) expect(text).not.toContain(leak)
      expect(body.error.data).not.toHaveProperty('stack')
      expect(log).toHaveBeenCalledTimes(1)
      const [line, logged] = log.mock.calls[0]!
      expect(line).toBe(`[api] internal error ${id} in ${path}:`)
      expect(String((logged as { message?: unknown }).message)).toBe(INTERNAL_TEXT)
    }
  })

  it('gives each error its own id', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const [a, b] = await Promise.all([call('bug'), call('bug')])
    expect(a.body.error.message).not.toBe(b.body.error.message)
  })

  it('leave deliberate TRPCErrors, internal ones included, with their own messages and unlogged', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    const internal = await call('deliberateInternal')
    expect(internal.status).toBe(500)
    expect(internal.body.error.message).toBe('could not start the run; is Temporal reachable?')
    const notFound = await call('notFound')
    expect(notFound.status).toBe(404)
    expect(notFound.body.error.message).toBe('run 1 does not exist')
    expect(log).not.toHaveBeenCalled()
  })
})

describe('reportInternalError', () => {
  it('logs the whole error under a fresh id and returns a message with only the id', () => {
    const lines: unknown[][] = []
    const err = new Error(INTERNAL_TEXT)
    const message = reportInternalError(err, 'GET /artifacts/:runId/:name', (...args) => lines.push(args))
    const id = /^internal error ([0-9a-f]{16}); the server log has the details under this id$/.exec(message)?.[1]
    expect(id).toBeDefined()
    expect(message).not.toContain('UTF8')
    expect(lines).toEqual([[`[api] internal error ${id} in GET /artifacts/:runId/:name:`, err]])
  })
})

describe('the database or S3 out of reach', () => {
  const call = async (path: string, headers: Record<string, string> = {}) => {
    const req = new Request(`http://api.test/trpc/${path}`, { headers })
    const res = await fetchRequestHandler({ endpoint: '/trpc', req, router: faultRouter, createContext: () => faultContext({ address: '127.0.0.1', ...(headers.authorization ? { authorization: headers.authorization } : {}) }) })
    return { status: res.status, text: await res.text() }
  }
  const expectPlain = (text: string) => {
    for (const leak of [/prisma/i, /invocation/i, /\/work\//, /\.ts:\d/, /ECONN/, /127\.0\.0\.1/]) expect(text).not.toMatch(leak)
  }

  it('answers SERVICE_UNAVAILABLE naming the part, from a procedure and from the access check, and logs the whole error', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    for (const [path, headers, part] of [
      ['readsDatabase', {}, 'the database'],
      // The access middleware's token lookup is the first thing to meet the database.
      ['signedIn', { authorization: `Bearer stp_${'x'.repeat(43)}` }, 'the database'],
      ['readsStorage', {}, 'artifact storage (S3)'],
    ] as const) {
      log.mockClear()
      const { status, text } = await call(path, headers)
      expect(status, text).toBe(503)
      const body = JSON.parse(text) as ErrorBody
      expect(body.error.data).toMatchObject({ code: 'SERVICE_UNAVAILABLE', httpStatus: 503 })
      expect(body.error.message).toBe(`${part} is not reachable right now; try again in a moment`)
      expect(body.error.data).not.toHaveProperty('stack')
      expectPlain(text)
      expect(log).toHaveBeenCalledTimes(1)
      expect(log.mock.calls[0]![0]).toBe(`[api] ${path}: ${body.error.message}:`)
      expect(log.mock.calls[0]![1]).toBeInstanceOf(Error)
    }
  })
})
