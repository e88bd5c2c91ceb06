// Hostile input end to end. Every procedure of the router (found from the router itself, so a new
// one fails the table test until it has an example input) gets variations of a valid example: a
// NUL character in each string, numbers past int4 and float range, negative numbers, ids that are
// not UUIDs, deeply nested junk and wrong types in each field, and a NUL in an object key. No
// answer may be a 500, and every refusal must name the field. Then exact cases check the message
// and that nothing was stored, an unexpected error answers only an error id, and the console
// WebSocket refuses bad parameters.
import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { appRouter, createServer, loadApiConfig } from '@stampede/api'
import { sessionClient } from '../src/clients.ts'
import { ADMIN, startStack, type Stack } from '../src/stack.ts'
import { waitUntil } from '../src/wait.ts'

const SCRIPT = `export const options = { vus: 1, iterations: 1 }\nexport default function () {}`
const NUL = 'contains a NUL character (\\u0000), which cannot be stored; remove it'
const INT4_OVERFLOW = 2 ** 31
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

interface StandardSchema {
  '~standard': {
    validate(value: unknown): { issues?: readonly { message: string; path?: readonly unknown[] }[] } | Promise<{ issues?: readonly { message: string; path?: readonly unknown[] }[] }>
    jsonSchema: { input(options: { target: string; libraryOptions?: Record<string, unknown> }): Record<string, unknown> }
  }
}
// At run time `_def.procedures` is flat: "runs.start" → procedure.
const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: 'query' | 'mutation' | 'subscription'; inputs: StandardSchema[] } }>

interface World {
  projectId: string
  doomedProjectId: string
  testId: string
  runId: string
  jobId: string
  tokenId: string
}

let stack: Stack
let world: World
/** The owner's own session (the fuzz must not sign out the stack's session). */
let auth: Record<string, string>

beforeAll(async () => {
  stack = await startStack()
  const test = await stack.api.tests.create.mutate({ name: 'fixture', script: SCRIPT, variables: [{ name: 'A', value: '1' }] })
  const run = await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east' })
  const job = await stack.api.jobs.create.mutate({ name: 'fixture job', testIds: [test.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false })
  const { id: tokenId } = await stack.api.tokens.create.mutate({ name: 'fixture', scope: 'read' })
  const doomed = await stack.admin.api.projects.create.mutate({ name: 'doomed' })
  world = { projectId: stack.projectId, doomedProjectId: doomed.id, testId: test.id, runId: run.id, jobId: job.id, tokenId }
  const session = sessionClient(stack.apiUrl)
  await session.api.auth.login.mutate({ email: ADMIN.email, password: ADMIN.password })
  auth = { cookie: session.cookie()!, 'x-stampede-csrf': session.csrf()! }
}, 180_000)
afterAll(async () => {
  await stack?.stop()
})

const future = () => new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString()
const jobFields = () => ({
  name: 'j',
  description: 'd',
  testIds: [world.testId],
  location: 'us-east',
  cron: '0 2 * * *',
  timezone: 'Europe/Berlin',
  overlapPolicy: 'skip',
  maxFirings: 5,
  endAt: future(),
  webhookUrl: 'https://hooks.example.com/stampede',
  notifyOn: ['failure'],
})

/**
 * A valid input of every procedure, using every field its schema has (null: it takes none). The
 * fuzz only ever sends variations of these; the tests below check they pass their schema and
 * cover every field.
 */
const EXAMPLES: Record<string, (() => unknown[]) | null> = {
  'auth.bootstrap': () => [{ token: 'x'.repeat(32), email: 'someone@stampede.test', name: 'Someone', password: 'a long enough password' }],
  'auth.login': () => [{ email: ADMIN.email, password: 'not the password' }],
  'auth.acceptInvite': () => [{ token: 'x'.repeat(32), name: 'Someone', password: 'a long enough password' }],
  'auth.me': null,
  'auth.logout': null,
  'auth.logoutEverywhere': null,
  'projects.list': null,
  'projects.create': () => [{ name: 'p' }],
  'projects.byId': () => [{ projectId: world.projectId }],
  'projects.update': () => [{ projectId: world.projectId, name: 'Default', allowlist: ['10.1.2.3'], maxConcurrentRuns: 50, maxVus: 10, maxDurationSeconds: 60 }],
  'projects.delete': () => [{ projectId: world.doomedProjectId }],
  'members.list': () => [{ projectId: world.projectId }],
  'members.add': () => [{ projectId: world.projectId, email: 'new@stampede.test', role: 'viewer' }],
  'members.setRole': () => [{ projectId: world.projectId, userId: randomUUID(), role: 'viewer' }],
  'members.remove': () => [{ projectId: world.projectId, userId: randomUUID() }],
  'tokens.create': () => [{ projectId: world.projectId, name: 't', scope: 'read', expiresAt: future() }],
  'tokens.list': () => [{ projectId: world.projectId }],
  'tokens.revoke': () => [{ id: world.tokenId }],
  'audit.list': () => [{ projectId: world.projectId, limit: 10, cursor: randomUUID() }],
  'tests.create': () => [
    { projectId: world.projectId, name: 't', description: 'd', script: SCRIPT, files: [{ path: 'data/a.json', sha256: 'a'.repeat(64) }], variables: [{ name: 'A', value: '1' }], secrets: [{ name: 'S', value: 's' }], rawSamples: true },
    { projectId: world.projectId, name: 't', archive: 'a'.repeat(64) },
  ],
  'tests.update': () => [
    { id: world.testId, name: 't', description: 'd', script: SCRIPT, files: [{ path: 'data/a.json', sha256: 'a'.repeat(64) }], variables: [{ name: 'A', value: '1' }], secrets: [{ name: 'S', value: 's' }], removeSecrets: ['OLD'], rawSamples: false },
    { id: world.testId, archive: 'a'.repeat(64) },
  ],
  'tests.byId': () => [{ id: world.testId }],
  'tests.list': () => [{ projectId: world.projectId }],
  'tests.delete': () => [{ id: world.testId }],
  'runs.start': () => [
    { testId: world.testId, location: 'us-east', timeoutSeconds: 60, env: { A: '1' }, rawSamples: true },
    { script: SCRIPT, projectId: world.projectId, location: 'us-east', timeoutSeconds: 60, env: { A: '1' }, rawSamples: false, files: [{ path: 'data/a.json', sha256: 'a'.repeat(64) }] },
    { archive: 'a'.repeat(64), projectId: world.projectId, location: 'us-east' },
  ],
  'runs.rerun': () => [{ id: world.runId, location: 'us-east', timeoutSeconds: 60 }],
  'runs.files': () => [{ runId: world.runId }],
  'files.missing': () => [{ projectId: world.projectId, sha256: ['a'.repeat(64)] }],
  'files.read': () => [{ projectId: world.projectId, sha256: 'a'.repeat(64) }],
  'runs.byId': () => [{ id: world.runId }],
  'runs.list': () => [{ projectId: world.projectId, testId: world.testId, status: 'passed', location: 'us-east', limit: 10, cursor: world.runId }],
  'runs.inFlight': () => [{ projectId: world.projectId }],
  'runs.cancel': () => [{ id: world.runId }],
  'runs.artifactUrl': () => [{ runId: world.runId, name: 'summary' }],
  'runs.metrics': () => [{ runId: world.runId, metrics: ['http_reqs'], tags: { status: '200' }, tagged: true, from: Date.now() - 3_600_000, to: Date.now(), bins: true }],
  'jobs.preview': () => [{ cron: '0 2 * * *', timezone: 'UTC', count: 3 }],
  'jobs.create': () => [{ projectId: world.projectId, ...jobFields(), enabled: false, rawSamples: true }],
  'jobs.update': () => [{ id: world.jobId, ...jobFields(), rotateWebhookSecret: true, rawSamples: false }],
  'jobs.byId': () => [{ id: world.jobId }],
  'jobs.list': () => [{ projectId: world.projectId }],
  'jobs.delete': () => [{ id: world.jobId }],
  'jobs.pause': () => [{ id: world.jobId }],
  'jobs.resume': () => [{ id: world.jobId }],
  'jobs.trigger': () => [{ id: world.jobId }],
  'jobs.backfill': () => [{ id: world.jobId, from: new Date(Date.now() - 2 * 3600_000).toISOString(), to: new Date(Date.now() - 3600_000).toISOString() }],
  'jobs.history': () => [{ id: world.jobId, limit: 5, cursor: randomUUID() }],
  'jobs.deliveries': () => [{ id: world.jobId }],
  'locations.list': null,
  'scripts.validate': () => [{ script: SCRIPT, projectId: world.projectId, files: [{ path: 'lib/m.js', sha256: 'a'.repeat(64) }] }],
  'templates.list': null,
  'templates.byId': () => [{ id: 'smoke' }],
  'meta.version': null,
}

type Path = (string | number)[]
const render = (path: Path) => path.join('.') || 'input'

/** Field paths of a JSON Schema, `*` for array items and record values. */
function schemaFields(schema: Record<string, unknown>, path: Path = []): Path[] {
  const branches = [...((schema.anyOf ?? schema.oneOf ?? []) as Record<string, unknown>[])]
  if (branches.length > 0) return branches.flatMap((b) => schemaFields(b, path))
  const fields: Path[] = path.length > 0 ? [path] : []
  for (const [key, sub] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) fields.push(...schemaFields(sub, [...path, key]))
  if (typeof schema.additionalProperties === 'object') fields.push(...schemaFields(schema.additionalProperties as Record<string, unknown>, [...path, '*']))
  if (typeof schema.items === 'object') fields.push(...schemaFields(schema.items as Record<string, unknown>, [...path, '*']))
  return fields
}

/** Every node of a value with its path (the root included). */
function nodes(value: unknown, path: Path = []): { path: Path; value: unknown }[] {
  const children = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : value && typeof value === 'object' ? Object.entries(value) : []
  return [{ path, value }, ...children.flatMap(([k, v]) => nodes(v, [...path, k]))]
}

const matches = (pattern: Path, path: Path) => pattern.length === path.length && pattern.every((p, i) => p === '*' || p === path[i])

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value
  const copy = structuredClone(root) as Record<string | number, unknown>
  let node = copy
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>
  node[path.at(-1)!] = value
  return copy
}

function nested(depth: number): unknown {
  let junk: unknown = 'junk'
  for (let i = 0; i < depth; i++) junk = i % 2 ? [junk] : { a: junk }
  return junk
}

/** Hostile replacements for a node, by what the example holds there. */
function hostile(value: unknown): { what: string; value: unknown }[] {
  const always = [
    { what: 'deeply nested junk', value: nested(40) },
    { what: 'shallow junk', value: [[{ x: [1] }]] },
  ]
  if (typeof value === 'string') {
    return [
      { what: 'a NUL character', value: `${value}\u0000tail` },
      { what: 'only a NUL character', value: '\u0000' },
      { what: 'a number', value: 7 },
      { what: 'an object', value: { a: 1 } },
      ...(UUID.test(value) ? [{ what: 'a non-UUID id', value: 'abc' }, { what: 'a UUID with junk', value: `${value}'; drop table runs; --` }, { what: 'a number id', value: '12345' }] : []),
      ...always,
    ]
  }
  if (typeof value === 'number') {
    return [
      // A field whose own valid value is past 2^31 (a Unix-ms time) is no int4 column: 2^31 is a fair value for it.
      ...(value < INT4_OVERFLOW ? [{ what: '2^31', value: INT4_OVERFLOW }] : []),
      { what: '2^53 + 2', value: 2 ** 53 + 2 },
      { what: '1e308', value: 1e308 },
      { what: '-1', value: -1 },
      { what: '-1e308', value: -1e308 },
      { what: 'a fraction', value: 1.5 },
      { what: 'a numeric string', value: '12' },
      ...always,
    ]
  }
  if (typeof value === 'boolean') return [{ what: 'a string', value: 'true' }, { what: '2^31', value: INT4_OVERFLOW }, ...always]
  if (Array.isArray(value)) return [{ what: 'a string', value: 'x' }, { what: 'a NUL string', value: '\u0000' }, ...always]
  if (value && typeof value === 'object') return [{ what: 'a NUL key', value: { ...value, ['K\u0000EY']: 'v' } }, { what: 'a string', value: 'x' }, ...always]
  return always
}

interface Answer {
  status: number
  message: string
}

/** Calls a procedure over plain HTTP, as any client would: GET ?input= for queries, a JSON POST for mutations. */
async function call(path: string, input: unknown, headers: Record<string, string> = auth): Promise<Answer> {
  const json = input === undefined ? undefined : JSON.stringify(input)
  const res =
    procedures[path]!._def.type === 'query'
      ? await fetch(`${stack.apiUrl}/trpc/${path}${json === undefined ? '' : `?input=${encodeURIComponent(json)}`}`, { headers })
      : await fetch(`${stack.apiUrl}/trpc/${path}`, { method: 'POST', headers: { ...headers, ...(json === undefined ? {} : { 'content-type': 'application/json' }) }, ...(json === undefined ? {} : { body: json }) })
  const body = (await res.json()) as { error?: { message: string } }
  return { status: res.status, message: body.error?.message ?? '' }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** The message names `field` (the field itself, or a path inside it). */
const names = (message: string, field: string) => new RegExp(`(^|; )${escape(field)}[.:]`).test(message)

describe('the example inputs', () => {
  it('name every procedure of the router', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(Object.keys(procedures).sort())
  })

  it('pass their procedure\'s schema and use every field it has', async () => {
    const problems: string[] = []
    for (const [path, examples] of Object.entries(EXAMPLES)) {
      const schema = procedures[path]!._def.inputs[0]
      if (!examples || !schema) {
        if (examples || schema) problems.push(`${path}: ${schema ? 'takes input; give examples' : 'takes no input; give null'}`)
        continue
      }
      const used = examples().flatMap((e) => nodes(e).map((n) => n.path))
      for (const example of examples()) {
        const result = await schema['~standard'].validate(example)
        for (const issue of result.issues ?? []) problems.push(`${path}: example refused: ${(issue.path ?? []).join('.')}: ${issue.message}`)
      }
      for (const field of schemaFields(schema['~standard'].jsonSchema.input({ target: 'draft-2020-12', libraryOptions: { unrepresentable: 'any' } }))) {
        if (!used.some((p) => matches(field, p))) problems.push(`${path}: no example uses ${render(field)}`)
      }
    }
    expect(problems).toEqual([])
  })
})

describe('every procedure, with hostile input', () => {
  it('never answers 500, and refuses each hostile field with a message naming it', async () => {
    const failures: string[] = []
    let calls = 0
    // Signing out last: should a refusal fail, the calls before still run signed in.
    const order = Object.entries(EXAMPLES).sort(([a], [b]) => Number(a.startsWith('auth.logout')) - Number(b.startsWith('auth.logout')))
    for (const [path, examples] of order) {
      const cases: { field: string; what: string; input: unknown }[] = []
      if (!examples) {
        // A procedure without input ignores what it is sent, except what no procedure may receive
        // (other junk would be ignored, and auth.logout would sign this session out).
        for (const [what, input] of [['a NUL string', 'a\u0000b'], ['a NUL key', { ['K\u0000']: 1 }], ['deeply nested junk', nested(40)]] as const) cases.push({ field: 'input', what, input })
      } else {
        for (const example of examples()) {
          for (const node of nodes(example)) {
            for (const h of hostile(node.value)) cases.push({ field: render(node.path), what: h.what, input: setAt(example, node.path, h.value) })
          }
          cases.push({ field: 'input', what: '2^31 as the whole input', input: INT4_OVERFLOW })
        }
      }
      for (const c of cases) {
        const answer = await call(path, c.input)
        calls++
        const where = `${path} ${c.field} (${c.what})`
        if (answer.status >= 500) failures.push(`${where}: ${answer.status} ${answer.message}`)
        else if (answer.status < 300) failures.push(`${where}: accepted`)
        else if (answer.status >= 400 && answer.status !== 400) failures.push(`${where}: ${answer.status} ${answer.message} (expected 400)`)
        else if (answer.status === 400 && !(c.field === 'input' ? /^[\w.]+: /.test(answer.message) : names(answer.message, c.field))) failures.push(`${where}: the message does not name the field: ${answer.message}`)
        if (answer.message.includes('\u0000')) failures.push(`${where}: the message echoes a NUL character`)
      }
    }
    expect(failures).toEqual([])
    expect(calls).toBeGreaterThan(1000)
    // The fuzz changed nothing: the fixtures are all still there.
    const db = stack.server.services.db
    expect(await db.test.count({ where: { id: world.testId } })).toBe(1)
    expect(await db.job.count({ where: { id: world.jobId } })).toBe(1)
    expect(await db.project.count({ where: { id: world.doomedProjectId } })).toBe(1)
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: world.tokenId } })).revokedAt).toBeNull()
  }, 300_000)
})

describe('exact refusals', () => {
  const token = () => ({ authorization: `Bearer ${stack.token}` })
  const db = () => stack.server.services.db

  it('refuses a NUL character in a test\'s name, a variable value or a script, storing nothing', async () => {
    const before = await db().test.count()
    expect(await call('tests.create', { name: 'nul\u0000name', script: SCRIPT }, token())).toEqual({ status: 400, message: `name: ${NUL}` })
    expect(await call('tests.create', { name: 'vars', script: SCRIPT, variables: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: 'x\u0000y' }] }, token())).toEqual({
      status: 400,
      message: `variables.2.value: ${NUL}`,
    })
    expect(await call('tests.create', { name: 'script', script: `${SCRIPT}\n// \u0000` }, token())).toEqual({ status: 400, message: `script: ${NUL}` })
    expect(await call('runs.start', { script: SCRIPT, location: 'us-east', env: { A: 'ok', B: '\u0000' } }, token())).toEqual({ status: 400, message: `env.B: ${NUL}` })
    expect(await db().test.count()).toBe(before)

    const load = () => db().test.findUniqueOrThrow({ where: { id: world.testId }, include: { variables: { orderBy: { name: 'asc' } } } })
    const stored = await load()
    expect(await call('tests.update', { id: world.testId, variables: [{ name: 'A', value: 'changed\u0000' }] }, token())).toEqual({ status: 400, message: `variables.0.value: ${NUL}` })
    expect(await call('tests.update', { id: world.testId, script: '\u0000' }, token())).toEqual({ status: 400, message: `script: ${NUL}` })
    expect(await load()).toEqual(stored)
  })

  it('refuses a body or ?input= that is not JSON, naming the input', async () => {
    const headers = { authorization: `Bearer ${stack.token}` }
    const body = await fetch(`${stack.apiUrl}/trpc/tests.create`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"name": ' })
    expect(body.status).toBe(400)
    expect(((await body.json()) as { error: { message: string } }).error.message).toMatch(/^input: is not valid JSON \(.+\)$/)
    // A raw NUL in the query string is not JSON (control characters must be escaped there).
    const query = await fetch(`${stack.apiUrl}/trpc/tests.byId?input=${encodeURIComponent('{"id":"')}%00"}`, { headers })
    expect(query.status).toBe(400)
    expect(((await query.json()) as { error: { message: string } }).error.message).toMatch(/^input: is not valid JSON \(.+\)$/)
  })

  it('refuses a cursor that is not an id, and pages with one that is', async () => {
    expect(await call('runs.list', { cursor: 'abc' }, token())).toEqual({ status: 400, message: 'cursor: must be the nextCursor of the previous page, an id (a UUID)' })
    expect(await call('audit.list', { cursor: 'abc' }, token())).toEqual({ status: 400, message: 'cursor: must be the nextCursor of the previous page, an id (a UUID)' })
    expect(await call('runs.byId', { id: '1 OR 1=1' }, token())).toEqual({ status: 400, message: 'id: must be an id as returned by the API (a UUID)' })
    const second = await stack.api.runs.start.mutate({ testId: world.testId, location: 'us-east' })
    const first = await stack.api.runs.list.query({ limit: 1 })
    expect(first.items.map((r) => r.id)).toEqual([second.id])
    const next = await stack.api.runs.list.query({ limit: 1, cursor: first.nextCursor! })
    expect(next.items.map((r) => r.id)).toEqual([world.runId])
  })

  it('refuses maxFirings past int4 on jobs.create, creating nothing, and stores the largest that fits', async () => {
    const job = { name: 'overflow', testIds: [world.testId], location: 'us-east', cron: '0 0 1 1 *', enabled: false }
    const before = await db().job.count()
    expect(await call('jobs.create', { ...job, maxFirings: INT4_OVERFLOW }, token())).toEqual({ status: 400, message: 'maxFirings: must be at most 2147483647' })
    expect(await call('jobs.create', { ...job, maxFirings: 1e308 }, token())).toEqual({ status: 400, message: 'maxFirings: must be at most 2147483647' })
    expect(await db().job.count()).toBe(before)
    const created = await stack.api.jobs.create.mutate({ ...job, maxFirings: INT4_OVERFLOW - 1 })
    expect(created.maxFirings).toBe(2147483647)
    await stack.api.jobs.delete.mutate({ id: created.id })
  })

  it('refuses quotas past int4 or past the platform\'s caps on projects.update, changing nothing', async () => {
    const before = await db().project.findUniqueOrThrow({ where: { id: world.projectId } })
    const update = (fields: Record<string, unknown>) => call('projects.update', { projectId: world.projectId, name: 'renamed', ...fields }, auth)
    expect(await update({ maxVus: INT4_OVERFLOW })).toEqual({ status: 400, message: 'maxVus: must be at most 2147483647' })
    expect(await update({ maxDurationSeconds: INT4_OVERFLOW })).toEqual({ status: 400, message: 'maxDurationSeconds: must be at most 2147483647' })
    expect(await update({ maxVus: INT4_OVERFLOW, maxDurationSeconds: INT4_OVERFLOW, maxConcurrentRuns: INT4_OVERFLOW })).toEqual({
      status: 400,
      message: 'maxConcurrentRuns: must be at most 1000; maxVus: must be at most 2147483647; maxDurationSeconds: must be at most 2147483647',
    })
    const { platformLimits } = await stack.admin.api.auth.me.query()
    expect(await update({ maxVus: platformLimits.maxVus + 1 })).toEqual({
      status: 400,
      message: `maxVus: must be at most ${platformLimits.maxVus}, this platform's MAX_VUS (null: the platform's cap)`,
    })
    expect(await update({ maxDurationSeconds: platformLimits.maxDurationSeconds + 1 })).toEqual({
      status: 400,
      message: `maxDurationSeconds: must be at most ${platformLimits.maxDurationSeconds}, this platform's MAX_DURATION_SECONDS (null: the platform's cap)`,
    })
    expect(await db().project.findUniqueOrThrow({ where: { id: world.projectId } })).toEqual(before)
  })
})

describe('unexpected errors', () => {
  const ERROR_ID = /^internal error ([0-9a-f]{16}); the server log has the details under this id$/

  it('answer a tRPC call with an error id only; the server log has the id with the whole error', async () => {
    const db = stack.server.services.db
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    // A real Prisma error: the table the procedure reads is gone for a moment.
    await db.$executeRawUnsafe('ALTER TABLE audit_events RENAME TO audit_events_hidden')
    try {
      const answer = await call('audit.list', { projectId: world.projectId }, { authorization: `Bearer ${stack.token}` })
      expect(answer.status).toBe(500)
      const id = ERROR_ID.exec(answer.message)?.[1]
      expect(id, answer.message).toBeDefined()
      const logged = log.mock.calls.find((args) => String(args[0]).includes(id!))
      expect(logged?.[0]).toBe(`[api] internal error ${id} in audit.list:`)
      expect(String((logged?.[1] as Error | undefined)?.message)).toContain('audit_events')
    } finally {
      await db.$executeRawUnsafe('ALTER TABLE audit_events_hidden RENAME TO audit_events')
      log.mockRestore()
    }
    expect((await call('audit.list', { projectId: world.projectId }, { authorization: `Bearer ${stack.token}` })).status).toBe(200)
  })

  it('answer a Fastify route with an error id only, and keep 4xx messages', async () => {
    const server = await createServer(loadApiConfig({ ...stack.env, API_PORT: '0' }))
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      server.app.get('/boom', async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:5432 at /srv/stampede/apps/api/src/server.ts:120')
      })
      const res = await server.app.inject({ url: '/boom' })
      expect(res.statusCode).toBe(500)
      const message = (res.json() as { error: { message: string } }).error.message
      const id = ERROR_ID.exec(message)?.[1]
      expect(id, message).toBeDefined()
      expect(res.body).not.toMatch(/ECONNREFUSED|10\.0\.0\.7|\/srv\//)
      expect(log).toHaveBeenCalledWith(`[api] internal error ${id} in GET /boom:`, expect.objectContaining({ message: expect.stringContaining('ECONNREFUSED') }))

      // Refusals keep their own messages.
      const missing = await server.app.inject({ url: '/artifacts/abc/summary' })
      expect([missing.statusCode, missing.json()]).toEqual([404, { error: 'no such artifact' }])
      expect(log.mock.calls.filter((args) => String(args[0]).startsWith('[api] internal error'))).toHaveLength(1)
    } finally {
      log.mockRestore()
      await server.stop()
    }
  })
})

describe('the console WebSocket', () => {
  /** Every message the server sends before it closes the socket. */
  async function messages(query: string, runId = world.runId): Promise<unknown[]> {
    const ws = new WebSocket(`${stack.wsUrl}/ws/runs/${runId}/console${query}`, { headers: { authorization: `Bearer ${stack.token}` } })
    const got: unknown[] = []
    ws.on('message', (data) => got.push(JSON.parse(String(data))))
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject)
      ws.once('close', () => resolve())
    })
    return got
  }

  it('refuses a run id that is not a UUID and an `after` that is not a whole number, naming them', async () => {
    const badAfter = [{ type: 'error', message: 'after must be a non-negative whole number (the last seq you received)' }]
    expect(await messages('?after=0', 'abc')).toEqual([{ type: 'error', message: 'runId must be a run UUID' }])
    expect(await messages('?after=0', '%00')).toEqual([{ type: 'error', message: 'runId must be a run UUID' }])
    for (const after of ['-1', 'abc', '1.5', '%00', 'Infinity']) expect(await messages(`?after=${after}`), after).toEqual(badAfter)
    // A finished run with a cursor past its end: nothing more to send, then the end.
    await waitUntil('the fixture run to finish', async () => ((await stack.api.runs.byId.query({ id: world.runId })).status === 'passed' ? true : undefined), 90_000, 200)
    const past = await messages('?after=1e308')
    expect(past.at(-1)).toMatchObject({ type: 'end', status: 'passed' })
    expect(past.filter((m) => (m as { type: string }).type === 'lines')).toEqual([])
  })
})
