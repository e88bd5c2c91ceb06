// Access control end to end: every procedure of the API and the console WebSocket, called as
// nobody, as each role and token scope of a project, and as members of another project using
// this project's ids. The table below must name every procedure the router has, so a new
// procedure cannot ship without its row.
import { randomUUID } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { TRPCClientError } from '@trpc/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appRouter, createServer, loadApiConfig } from '@stampede/api'
import { API_COMPAT, roleAllows, scopeAllows, type Permission, type ProjectRole, type TokenScope } from '@stampede/shared'
import { anonymousClient, sessionClient, tokenClient, type Api, type SessionClient } from '../src/clients.ts'
import { watchConsole } from '../src/console-client.ts'
import { ADMIN, startStack, type Stack } from '../src/stack.ts'
import { waitUntil, runFinished } from '../src/wait.ts'

const PASSWORD = 'a long enough password'
const SCRIPT = `export const options = { vus: 1, iterations: 1 }\nexport default function () {}`

type Caller =
  | { name: string; kind: 'user'; role: ProjectRole; api: Api; userId: string; email: string; session: SessionClient }
  | { name: string; kind: 'token'; scope: TokenScope; api: Api; token: string }

interface World {
  jobId: string
  projectId: string
  testId: string
  runId: string
  tokenId: string
  /** A file uploaded to the Default project. */
  blobSha: string
  pawnId: string
  spare: { userId: string; email: string }
}

let stack: Stack
let world: World
let callers: Caller[]
let outsiders: Caller[]
let owner: SessionClient
let seq = 0
const unique = (what: string) => `${what}-${++seq}-${Date.now()}`

async function invite(projectId: string, role: ProjectRole, by: Api = owner.api): Promise<{ session: SessionClient; userId: string; email: string }> {
  const email = `${unique(role)}@stampede.test`
  const { invitationToken } = await by.members.add.mutate({ projectId, email, role })
  const session = sessionClient(stack.apiUrl)
  const me = await session.api.auth.acceptInvite.mutate({ token: invitationToken!, name: role, password: PASSWORD })
  return { session, userId: me.actor.id, email }
}

/** Signs in from another loopback address (127.0.0.0/8 all reaches the API): the API sees it as the caller's address. */
function loginFrom(localAddress: string, email: string, password: string): Promise<{ status: number; message: string | undefined }> {
  const body = JSON.stringify({ email, password })
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${stack.apiUrl}/trpc/auth.login`, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, message: (JSON.parse(text) as { error?: { message?: string } }).error?.message }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const finished = (api: Api, id: string) => runFinished(api, id)

/** POST /files (the one route outside tRPC that changes a project) with these credentials. */
const upload = (headers: Record<string, string>, projectId: string, body = 'a file of the fixture') =>
  fetch(`${stack.apiUrl}/files?projectId=${projectId}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...headers }, body })

const credentials = (c: Caller): Record<string, string> => (c.kind === 'token' ? { authorization: `Bearer ${c.token}` } : { cookie: c.session.cookie()!, 'x-stampede-csrf': c.session.csrf()! })

beforeAll(async () => {
  stack = await startStack()
  owner = stack.admin
  const projectId = stack.projectId
  const test = await stack.api.tests.create.mutate({ name: 'fixture', script: SCRIPT, secrets: [{ name: 'API_KEY', value: 'fixture-secret-value' }] })
  const run = await finished(stack.api, (await stack.api.runs.start.mutate({ testId: test.id, location: 'us-east' })).id)
  const { id: tokenId } = await stack.api.tokens.create.mutate({ name: 'victim', scope: 'read' })
  const admin = await invite(projectId, 'admin')
  const editor = await invite(projectId, 'editor')
  const viewer = await invite(projectId, 'viewer')
  const pawn = await invite(projectId, 'viewer')
  const spare = await invite(projectId, 'viewer')
  const tokens = await Promise.all(
    (['read', 'run', 'admin'] as const).map(async (scope) => ({ scope, token: (await owner.api.tokens.create.mutate({ projectId, name: `matrix ${scope}`, scope })).token })),
  )
  const job = await stack.api.jobs.create.mutate({ name: 'fixture job', testIds: [test.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false })
  const blob = (await (await upload({ authorization: `Bearer ${stack.token}` }, projectId)).json()) as { sha256: string }
  world = { jobId: job.id, projectId, testId: test.id, runId: run.id, tokenId, blobSha: blob.sha256, pawnId: pawn.userId, spare: { userId: spare.userId, email: spare.email } }
  const ownerMe = await owner.api.auth.me.query()
  callers = [
    { name: 'owner', kind: 'user', role: 'owner', api: owner.api, userId: ownerMe.actor.id, email: ADMIN.email, session: owner },
    { name: 'admin', kind: 'user', role: 'admin', api: admin.session.api, userId: admin.userId, email: admin.email, session: admin.session },
    { name: 'editor', kind: 'user', role: 'editor', api: editor.session.api, userId: editor.userId, email: editor.email, session: editor.session },
    { name: 'viewer', kind: 'user', role: 'viewer', api: viewer.session.api, userId: viewer.userId, email: viewer.email, session: viewer.session },
    ...tokens.map(({ scope, token }): Caller => ({ name: `token:${scope}`, kind: 'token', scope, api: tokenClient(stack.apiUrl, token), token })),
  ]

  // An outsider: owner of project B, not a member of the Default project.
  const outsider = await invite(projectId, 'viewer')
  const b = await outsider.session.api.projects.create.mutate({ name: 'B' })
  await owner.api.members.remove.mutate({ projectId, userId: outsider.userId })
  const bToken = (await outsider.session.api.tokens.create.mutate({ projectId: b.id, name: 'b admin', scope: 'admin' })).token
  outsiders = [
    { name: 'owner of B', kind: 'user', role: 'owner', api: outsider.session.api, userId: outsider.userId, email: outsider.email, session: outsider.session },
    { name: 'admin token of B', kind: 'token', scope: 'admin', api: tokenClient(stack.apiUrl, bToken), token: bToken },
  ]
}, 180_000)
afterAll(async () => {
  await stack?.stop()
})

interface Row {
  /** What the caller needs; `signed-in`: anyone with credentials. */
  rule: Permission | 'signed-in' | 'public'
  /** The input a caller uses on the Default project (may create a throwaway object first). */
  input?: (c: Caller) => Promise<unknown> | unknown
  /** Input naming the Default project's objects by id, for callers from project B, and its id. */
  cross?: () => { input: unknown; id: string }
  /** Allowed for users, refused for tokens (with this code). */
  tokens?: 'FORBIDDEN' | 'BAD_REQUEST'
  /** Tested in its own case below. */
  separately?: string
}

const project = () => ({ input: { projectId: world.projectId }, id: world.projectId })
const TABLE: Record<string, Row> = {
  'auth.bootstrap': { rule: 'public', separately: 'bootstrap is refused once an account exists' },
  'auth.login': { rule: 'public', separately: 'login throttling' },
  'auth.acceptInvite': { rule: 'public', separately: 'used by the fixture; a used invitation is refused' },
  'auth.me': { rule: 'signed-in' },
  'auth.logout': { rule: 'signed-in', separately: 'sign out everywhere' },
  'auth.logoutEverywhere': { rule: 'signed-in', separately: 'sign out everywhere' },
  'projects.list': { rule: 'signed-in' },
  'projects.create': { rule: 'signed-in', input: () => ({ name: unique('p') }), tokens: 'FORBIDDEN' },
  'projects.byId': { rule: 'read', input: () => ({ projectId: world.projectId }), cross: project },
  'projects.update': { rule: 'admin', input: () => ({ projectId: world.projectId, name: 'Default' }), cross: project },
  'projects.delete': {
    rule: 'owner',
    // A throwaway project the caller has the same role in; tokens aim at their own project.
    input: async (c) => {
      if (c.kind === 'token') return { projectId: world.projectId }
      const p = await owner.api.projects.create.mutate({ name: unique('doomed') })
      if (c.name !== 'owner') await owner.api.members.add.mutate({ projectId: p.id, email: c.email, role: c.role })
      return { projectId: p.id }
    },
    cross: project,
  },
  'members.list': { rule: 'read', input: () => ({ projectId: world.projectId }), cross: project },
  'members.add': { rule: 'admin', input: () => ({ projectId: world.projectId, email: `${unique('new')}@stampede.test`, role: 'viewer' }), cross: () => ({ input: { projectId: world.projectId, email: 'x@stampede.test', role: 'viewer' }, id: world.projectId }) },
  'members.setRole': { rule: 'admin', input: () => ({ projectId: world.projectId, userId: world.pawnId, role: 'viewer' }), cross: () => ({ input: { projectId: world.projectId, userId: world.pawnId, role: 'viewer' }, id: world.projectId }) },
  'members.remove': {
    rule: 'admin',
    input: async () => {
      const members = await owner.api.members.list.query({ projectId: world.projectId })
      if (!members.some((m) => m.userId === world.spare.userId)) await owner.api.members.add.mutate({ projectId: world.projectId, email: world.spare.email, role: 'viewer' })
      return { projectId: world.projectId, userId: world.spare.userId }
    },
    cross: () => ({ input: { projectId: world.projectId, userId: world.spare.userId }, id: world.projectId }),
  },
  'tokens.create': { rule: 'admin', input: () => ({ projectId: world.projectId, name: unique('t'), scope: 'read' }), cross: () => ({ input: { projectId: world.projectId, name: 't', scope: 'read' }, id: world.projectId }) },
  'tokens.list': { rule: 'admin', input: () => ({ projectId: world.projectId }), cross: project },
  'tokens.revoke': {
    rule: 'admin',
    input: async () => ({ id: (await stack.api.tokens.create.mutate({ name: unique('revocable'), scope: 'read' })).id }),
    cross: () => ({ input: { id: world.tokenId }, id: world.tokenId }),
  },
  'audit.list': { rule: 'admin', input: () => ({ projectId: world.projectId }), cross: project },
  'tests.create': { rule: 'write', input: () => ({ projectId: world.projectId, name: unique('t'), script: SCRIPT }), cross: () => ({ input: { projectId: world.projectId, name: 't', script: SCRIPT }, id: world.projectId }) },
  'tests.update': { rule: 'write', input: () => ({ id: world.testId, description: 'updated' }), cross: () => ({ input: { id: world.testId, description: 'x' }, id: world.testId }) },
  'tests.byId': { rule: 'read', input: () => ({ id: world.testId }), cross: () => ({ input: { id: world.testId }, id: world.testId }) },
  'tests.list': { rule: 'read', input: () => ({ projectId: world.projectId }), cross: project },
  'tests.delete': {
    rule: 'write',
    input: async () => ({ id: (await stack.api.tests.create.mutate({ name: unique('doomed'), script: SCRIPT })).id }),
    cross: () => ({ input: { id: world.testId }, id: world.testId }),
  },
  'runs.start': { rule: 'write', input: () => ({ testId: world.testId, location: 'us-east' }), cross: () => ({ input: { testId: world.testId, location: 'us-east' }, id: world.testId }) },
  'runs.byId': { rule: 'read', input: () => ({ id: world.runId }), cross: () => ({ input: { id: world.runId }, id: world.runId }) },
  'runs.list': { rule: 'read', input: () => ({ projectId: world.projectId }), cross: project },
  'runs.inFlight': { rule: 'read', input: () => ({ projectId: world.projectId }), cross: project },
  'runs.cancel': { rule: 'write', input: () => ({ id: world.runId }), cross: () => ({ input: { id: world.runId }, id: world.runId }) },
  'runs.rerun': { rule: 'write', input: () => ({ id: world.runId }), cross: () => ({ input: { id: world.runId }, id: world.runId }) },
  'runs.files': { rule: 'read', input: () => ({ runId: world.runId }), cross: () => ({ input: { runId: world.runId }, id: world.runId }) },
  'files.missing': { rule: 'write', input: () => ({ projectId: world.projectId, sha256: [world.blobSha, 'f'.repeat(64)] }), cross: () => ({ input: { projectId: world.projectId, sha256: [world.blobSha] }, id: world.projectId }) },
  'files.read': { rule: 'read', input: () => ({ projectId: world.projectId, sha256: world.blobSha }), cross: () => ({ input: { projectId: world.projectId, sha256: world.blobSha }, id: world.projectId }) },
  'runs.artifactUrl': { rule: 'read', input: () => ({ runId: world.runId, name: 'summary' }), cross: () => ({ input: { runId: world.runId, name: 'summary' }, id: world.runId }) },
  'runs.metrics': { rule: 'read', input: () => ({ runId: world.runId }), cross: () => ({ input: { runId: world.runId }, id: world.runId }) },
  'jobs.preview': { rule: 'signed-in', input: () => ({ cron: '0 2 * * *', timezone: 'Europe/Berlin' }) },
  'jobs.create': {
    rule: 'write',
    input: () => ({ projectId: world.projectId, name: unique('job'), testIds: [world.testId], location: 'us-east', cron: '0 0 1 1 *', enabled: false }),
    cross: () => ({ input: { projectId: world.projectId, name: 'j', testIds: [world.testId], location: 'us-east', cron: '0 0 1 1 *' }, id: world.projectId }),
  },
  'jobs.update': { rule: 'write', input: () => ({ id: world.jobId, description: 'updated' }), cross: () => ({ input: { id: world.jobId, description: 'x' }, id: world.jobId }) },
  'jobs.byId': { rule: 'read', input: () => ({ id: world.jobId }), cross: () => ({ input: { id: world.jobId }, id: world.jobId }) },
  'jobs.list': { rule: 'read', input: () => ({ projectId: world.projectId }), cross: project },
  'jobs.delete': {
    rule: 'write',
    input: async () => ({ id: (await stack.api.jobs.create.mutate({ name: unique('doomed job'), testIds: [world.testId], location: 'us-east', cron: '0 0 1 1 *', enabled: false })).id }),
    cross: () => ({ input: { id: world.jobId }, id: world.jobId }),
  },
  'jobs.pause': { rule: 'write', input: () => ({ id: world.jobId }), cross: () => ({ input: { id: world.jobId }, id: world.jobId }) },
  'jobs.resume': { rule: 'write', input: () => ({ id: world.jobId }), cross: () => ({ input: { id: world.jobId }, id: world.jobId }) },
  'jobs.trigger': { rule: 'write', input: () => ({ id: world.jobId }), cross: () => ({ input: { id: world.jobId }, id: world.jobId }) },
  'jobs.backfill': {
    rule: 'write',
    input: () => ({ id: world.jobId, from: '2026-03-01T00:00:00Z', to: '2026-03-01T01:00:00Z' }),
    cross: () => ({ input: { id: world.jobId, from: '2026-03-01T00:00:00Z', to: '2026-03-01T01:00:00Z' }, id: world.jobId }),
  },
  'jobs.history': { rule: 'read', input: () => ({ id: world.jobId }), cross: () => ({ input: { id: world.jobId }, id: world.jobId }) },
  'jobs.deliveries': { rule: 'read', input: () => ({ id: world.jobId }), cross: () => ({ input: { id: world.jobId }, id: world.jobId }) },
  'locations.list': { rule: 'signed-in' },
  'scripts.validate': { rule: 'signed-in', input: () => ({ script: SCRIPT }), cross: () => ({ input: { script: SCRIPT, projectId: world.projectId }, id: world.projectId }) },
  'templates.list': { rule: 'signed-in' },
  'templates.byId': { rule: 'signed-in', input: () => ({ id: 'smoke' }) },
  'meta.version': { rule: 'public', separately: 'the API\'s version, for anyone' },
}

// At run time `_def.procedures` is flat: "runs.start" → procedure.
const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: 'query' | 'mutation' | 'subscription'; meta?: { access?: string } } }>

/** Calls `path` on `api` the way a client would. */
async function call(api: Api, path: string, input: unknown): Promise<unknown> {
  const type = procedures[path]!._def.type
  let node: unknown = api
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part]
  const fn = (node as Record<string, (input: unknown) => Promise<unknown>>)[type === 'query' ? 'query' : 'mutate']!
  return fn(input)
}

async function outcome(api: Api, path: string, input: unknown): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
  try {
    await call(api, path, input)
    return { ok: true }
  } catch (err) {
    if (!(err instanceof TRPCClientError)) throw err
    const data = err.data as { code?: string } | undefined
    return { ok: false, code: data?.code ?? 'UNKNOWN', message: err.message }
  }
}

const allowed = (c: Caller, rule: Row['rule']) =>
  rule === 'public' || rule === 'signed-in' ? true : c.kind === 'user' ? roleAllows(c.role, rule) : scopeAllows(c.scope, rule)

describe('the access table', () => {
  it('names every procedure, with the access rule the procedure declares', () => {
    const declared = Object.fromEntries(Object.entries(procedures).map(([path, p]) => [path, p._def.meta?.access]))
    expect(Object.keys(TABLE).sort()).toEqual(Object.keys(declared).sort())
    for (const [path, row] of Object.entries(TABLE)) expect(declared[path], path).toBe(row.rule)
  })
})

describe('every procedure', () => {
  it('refuses callers without credentials, before looking at any id', async () => {
    const nobody = anonymousClient(stack.apiUrl)
    for (const [path, row] of Object.entries(TABLE)) {
      if (row.rule === 'public') continue
      const input = row.cross ? row.cross().input : await row.input?.(callers[0]!)
      const result = await outcome(nobody, path, input)
      expect(result, path).toMatchObject({ ok: false, code: 'UNAUTHORIZED' })
    }
  })

  it('lets each role and token scope do exactly what it may', async () => {
    const failures: string[] = []
    for (const [path, row] of Object.entries(TABLE)) {
      if (row.separately || row.rule === 'public') continue
      for (const c of callers) {
        const result = await outcome(c.api, path, await row.input?.(c))
        const expectOk = allowed(c, row.rule) && !(c.kind === 'token' && row.tokens)
        const expectedCode = c.kind === 'token' && row.tokens ? row.tokens : 'FORBIDDEN'
        if (expectOk && !result.ok) failures.push(`${c.name} ${path}: expected success, got ${result.code} ${result.message}`)
        if (!expectOk && (result.ok || result.code !== expectedCode)) failures.push(`${c.name} ${path}: expected ${expectedCode}, got ${result.ok ? 'success' : `${result.code} ${result.message}`}`)
      }
    }
    expect(failures).toEqual([])
  }, 180_000)

  it('answers members of another project who use this project\'s ids exactly as if the ids did not exist', async () => {
    const failures: string[] = []
    for (const [path, row] of Object.entries(TABLE)) {
      if (!row.cross) continue
      const { input, id } = row.cross()
      const missing = randomUUID()
      const swapped = JSON.parse(JSON.stringify(input).replaceAll(id, missing)) as unknown
      for (const c of outsiders) {
        const real = await outcome(c.api, path, input)
        const none = await outcome(c.api, path, swapped)
        if (real.ok || real.code !== 'NOT_FOUND') failures.push(`${c.name} ${path}: expected NOT_FOUND, got ${real.ok ? 'success' : `${real.code} ${real.message}`}`)
        else if (none.ok || real.code !== none.code || real.message.replaceAll(id, '<id>') !== none.message.replaceAll(missing, '<id>')) {
          failures.push(`${c.name} ${path}: "${real.message}" differs from the answer for a missing id: ${none.ok ? 'success' : `"${none.message}"`}`)
        }
      }
    }
    expect(failures).toEqual([])
    // And B's lists hold nothing of the Default project.
    const [bOwner] = outsiders
    expect((await bOwner!.api.tests.list.query()).map((t) => t.id)).not.toContain(world.testId)
    expect((await bOwner!.api.runs.list.query()).items.map((r) => r.id)).not.toContain(world.runId)
  })
})

describe('POST /files, the upload route', () => {
  it('checks credentials, the CSRF token and write permission before reading the body, as every procedure does', async () => {
    expect((await upload({}, world.projectId)).status).toBe(401)
    const failures: string[] = []
    for (const c of callers) {
      const res = await upload(credentials(c), world.projectId)
      const expected = allowed(c, 'write') ? 200 : 403
      if (res.status !== expected) failures.push(`${c.name}: expected ${expected}, got ${res.status} ${await res.text()}`)
    }
    expect(failures).toEqual([])
    // A session without its CSRF token, or from a foreign page, changes nothing.
    const noCsrf = await upload({ cookie: owner.cookie()! }, world.projectId)
    expect(noCsrf.status).toBe(403)
    expect(await noCsrf.text()).toContain('x-stampede-csrf')
    const foreign = await upload({ ...credentials(callers[0]!), origin: 'https://evil.example' }, world.projectId)
    expect(foreign.status).toBe(403)
  })

  it("answers members of another project who name this project exactly as if it did not exist", async () => {
    for (const c of outsiders) {
      const real = await upload(credentials(c), world.projectId)
      const missing = randomUUID()
      const none = await upload(credentials(c), missing)
      expect(real.status, c.name).toBe(404)
      expect(((await real.json()) as { error: { message: string } }).error.message.replaceAll(world.projectId, '<id>')).toBe(((await none.json()) as { error: { message: string } }).error.message.replaceAll(missing, '<id>'))
    }
  })
})

describe('the API\'s version', () => {
  it('answers anyone, without credentials too, with the version /healthz reports', async () => {
    const answer = await anonymousClient(stack.apiUrl).meta.version.query()
    expect(answer).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), apiCompat: API_COMPAT })
    const health = (await (await fetch(`${stack.apiUrl}/healthz`)).json()) as { version?: unknown }
    expect(health.version).toBe(answer.version)
  })
})

describe('the console WebSocket', () => {
  const refusal = async (headers: Record<string, string>, runId = world.runId) => {
    const viewer = await watchConsole({ wsUrl: stack.wsUrl, wsHeaders: headers }, runId)
    await viewer.closed
    return viewer.messages
  }

  it('refuses no credentials, a revoked token and another project\'s members; serves a viewer', async () => {
    expect(await refusal({})).toEqual([{ type: 'error', message: expect.stringContaining('not signed in') }])
    const [bOwner, bToken] = outsiders
    const missing = randomUUID()
    const cross = await refusal({ authorization: `Bearer ${(bToken as Extract<Caller, { kind: 'token' }>).token}` })
    expect(cross).toEqual([{ type: 'error', message: `run ${world.runId} does not exist` }])
    expect(await refusal({ authorization: `Bearer ${(bToken as Extract<Caller, { kind: 'token' }>).token}` }, missing)).toEqual([{ type: 'error', message: `run ${missing} does not exist` }])
    expect(bOwner).toBeDefined()

    const viewerToken = callers.find((c) => c.name === 'token:read') as Extract<Caller, { kind: 'token' }>
    const served = await refusal({ authorization: `Bearer ${viewerToken.token}` })
    expect(served.at(-1)).toMatchObject({ type: 'end', status: 'passed' })

    const session = sessionClient(stack.apiUrl)
    await session.api.auth.login.mutate({ email: ADMIN.email, password: ADMIN.password })
    expect((await refusal({ cookie: session.cookie()! })).at(-1)).toMatchObject({ type: 'end' })
    // A page on another origin cannot ride the session cookie (browsers send cookies on WebSockets without CORS).
    expect(await refusal({ cookie: session.cookie()!, origin: 'https://evil.example' })).toEqual([
      { type: 'error', message: 'connections from https://evil.example may not use a Stampede session; use an API token' },
    ])
  })
})

describe('API tokens', () => {
  it('shows a token once, stores only its hash, and refuses it on the next call after revocation or expiry', async () => {
    const created = await stack.api.tokens.create.mutate({ name: 'ci', scope: 'run', expiresAt: new Date(Date.now() + 60_000).toISOString() })
    expect(created.token).toMatch(/^stp_[A-Za-z0-9_-]{43}$/)
    const listed = await stack.api.tokens.list.query()
    expect(JSON.stringify(listed)).not.toContain(created.token)
    expect(listed.find((t) => t.id === created.id)).toMatchObject({ name: 'ci', scope: 'run', prefix: created.token.slice(0, 12), revokedAt: null })

    const ci = tokenClient(stack.apiUrl, created.token)
    expect((await ci.tests.list.query()).length).toBeGreaterThan(0)
    await stack.api.tokens.revoke.mutate({ id: created.id })
    await expect(ci.tests.list.query()).rejects.toThrow(/this API token \("ci"\) was revoked on/)

    const short = await stack.api.tokens.create.mutate({ name: 'short', scope: 'read', expiresAt: new Date(Date.now() + 1500).toISOString() })
    const shortApi = tokenClient(stack.apiUrl, short.token)
    await shortApi.tests.list.query()
    const refusal = await waitUntil('the short token to expire', () => shortApi.tests.list.query().then(() => undefined, (err: unknown) => err), 10_000, 100)
    expect(refusal).toBeInstanceOf(TRPCClientError)
    expect((refusal as Error).message).toMatch(/this API token \("short"\) expired on/)

    await expect(tokenClient(stack.apiUrl, 'stp_' + 'x'.repeat(43)).tests.list.query()).rejects.toThrow('this API token is not known')
    await expect(tokenClient(stack.apiUrl, 'ghp_something').tests.list.query()).rejects.toThrow('that is not a Stampede API token')
    await expect(stack.api.tokens.create.mutate({ name: 'past', scope: 'read', expiresAt: '2020-01-01T00:00:00Z' })).rejects.toThrow('expiresAt: must be in the future')
  })

  it('limits each token to its request rate', async () => {
    const limited = await createServer(loadApiConfig({ ...stack.env, API_PORT: '0', API_TOKEN_RATE_LIMIT: '5' }))
    const url = await limited.start()
    try {
      const api = tokenClient(url, stack.token)
      for (let i = 0; i < 5; i++) await api.locations.list.query()
      await expect(api.locations.list.query()).rejects.toThrow(/API token "e2e" exceeded 5 requests per minute; retry in \d+ s/)
    } finally {
      await limited.stop()
    }
  })
})

describe('sessions', () => {
  it('throttles sign-in per account and address with growing delays, and per address, never delaying the owner elsewhere', async () => {
    const who = await invite(world.projectId, 'viewer')
    const stranger = sessionClient(stack.apiUrl) // from 127.0.0.1
    const guess = () => stranger.api.auth.login.mutate({ email: who.email, password: 'wrong password!' }).then(() => 'signed in', (err: Error) => err.message)
    for (let i = 0; i < 3; i++) expect(await guess()).toBe('email or password is wrong')
    // The fourth attempt from this address waits 1 s after the third failure, the right password too.
    await expect(stranger.api.auth.login.mutate({ email: who.email, password: PASSWORD })).rejects.toThrow(/^too many failed sign-ins for this account from your address; try again in 1 s$/)
    // The owner, signing in from another address meanwhile, is not delayed.
    expect(await loginFrom('127.0.0.2', who.email, PASSWORD)).toEqual({ status: 200, message: undefined })
    // Once the second is over the next guess is checked (and fails); the one after waits 2 s.
    await waitUntil('the 1 s delay to pass', async () => ((await guess()) === 'email or password is wrong' ? true : undefined), 10_000, 100)
    expect(await guess()).toMatch(/^too many failed sign-ins for this account from your address; try again in 2 s$/)
    expect(await loginFrom('127.0.0.2', who.email, PASSWORD)).toMatchObject({ status: 200 })

    // Password spraying: 20 failures from one address over many accounts close that address.
    for (let i = 0; i < 20; i++) expect(await loginFrom('127.0.0.3', `${unique('ghost')}@stampede.test`, 'nope nope nope')).toMatchObject({ status: 401 })
    expect(await loginFrom('127.0.0.3', ADMIN.email, ADMIN.password)).toEqual({ status: 429, message: expect.stringMatching(/^too many failed sign-ins from your address; try again in \d+ s$/) })
    expect(await loginFrom('127.0.0.2', ADMIN.email, ADMIN.password)).toMatchObject({ status: 200 })
    await stack.server.services.db.loginAttempt.deleteMany({})
  })

  it('refuses cookie changes without the CSRF token or from another origin; reads need neither', async () => {
    const session = sessionClient(stack.apiUrl)
    await session.api.auth.login.mutate({ email: ADMIN.email, password: ADMIN.password })
    const { projectId } = world
    session.sendCsrf = false
    expect((await session.api.tests.list.query({ projectId })).length).toBeGreaterThan(0)
    await expect(session.api.tests.create.mutate({ projectId, name: 'csrf', script: SCRIPT })).rejects.toThrow('missing or wrong x-stampede-csrf header')
    session.sendCsrf = true
    session.origin = 'https://evil.example'
    await expect(session.api.tests.list.query({ projectId })).rejects.toThrow('requests from https://evil.example may not use a Stampede session')
    await expect(sessionClient(stack.apiUrl, { origin: 'https://evil.example' }).api.auth.login.mutate({ email: ADMIN.email, password: ADMIN.password })).rejects.toThrow(
      'sign-in from https://evil.example is not allowed',
    )
    session.origin = undefined
    expect((await session.api.tests.create.mutate({ projectId, name: unique('csrf ok'), script: SCRIPT })).name).toMatch(/^csrf ok/)
  })

  it('sets an HTTP-only SameSite cookie, and signing out everywhere ends every session', async () => {
    const res = await fetch(`${stack.apiUrl}/trpc/auth.login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }) })
    expect(res.headers.get('set-cookie')).toMatch(/^stampede_session=[A-Za-z0-9_-]{43}; Max-Age=1209600; Path=\/; HttpOnly; SameSite=Strict$/)

    const who = await invite(world.projectId, 'viewer')
    const second = sessionClient(stack.apiUrl)
    await second.api.auth.login.mutate({ email: who.email, password: PASSWORD })
    expect((await second.api.auth.me.query()).actor).toMatchObject({ kind: 'user', email: who.email })
    const { signedOut } = await who.session.api.auth.logoutEverywhere.mutate()
    expect(signedOut).toBe(2)
    await expect(second.api.auth.me.query()).rejects.toThrow('your session has ended; sign in again')
    await expect(who.session.api.auth.me.query()).rejects.toThrow(/not signed in|your session has ended/)

    const third = sessionClient(stack.apiUrl)
    await third.api.auth.login.mutate({ email: who.email, password: PASSWORD })
    await third.api.auth.logout.mutate()
    await expect(third.api.auth.me.query()).rejects.toThrow(/not signed in|your session has ended/)
  })

  it('refuses a second bootstrap and a used invitation', async () => {
    const nobody = anonymousClient(stack.apiUrl)
    await expect(nobody.auth.bootstrap.mutate({ token: 'x'.repeat(32), email: 'mallory@stampede.test', name: 'M', password: 'another long password' })).rejects.toThrow('this bootstrap link is not valid')
    const { invitationToken } = await owner.api.members.add.mutate({ projectId: world.projectId, email: `${unique('once')}@stampede.test`, role: 'viewer' })
    await nobody.auth.acceptInvite.mutate({ token: invitationToken!, name: 'Once', password: PASSWORD })
    await expect(nobody.auth.acceptInvite.mutate({ token: invitationToken!, name: 'Twice', password: PASSWORD })).rejects.toThrow('this invitation was used already')
  })
})

describe('owners and roles', () => {
  it('keeps at least one owner and lets only owners make owners', async () => {
    const adminCaller = callers.find((c) => c.name === 'admin')!
    const ownerCaller = callers.find((c) => c.name === 'owner') as Extract<Caller, { kind: 'user' }>
    await expect(adminCaller.api.members.setRole.mutate({ projectId: world.projectId, userId: world.pawnId, role: 'owner' })).rejects.toThrow('only an owner can make or unmake owners')
    await expect(owner.api.members.setRole.mutate({ projectId: world.projectId, userId: ownerCaller.userId, role: 'admin' })).rejects.toThrow("this is the project's last owner")
    await expect(owner.api.members.remove.mutate({ projectId: world.projectId, userId: ownerCaller.userId })).rejects.toThrow("this is the project's last owner")
  })
})

describe('quotas', () => {
  it('enforces the project\'s concurrent runs, VUs and duration at runs.start, with the limit in the message', async () => {
    await owner.api.projects.update.mutate({ projectId: world.projectId, maxConcurrentRuns: 1, maxVus: 2, maxDurationSeconds: 20 })
    try {
      await expect(stack.api.runs.start.mutate({ script: `export const options = { vus: 5, duration: '2s' }\nexport default function () {}`, location: 'us-east' })).rejects.toThrow(
        'The script needs up to 5 VUs; this project allows at most 2.',
      )
      await expect(stack.api.runs.start.mutate({ script: `export const options = { vus: 1, duration: '1m' }\nexport default function () {}`, location: 'us-east' })).rejects.toThrow(
        'this project allows at most 20 s',
      )
      await owner.api.projects.update.mutate({ projectId: world.projectId, maxVus: null, maxDurationSeconds: null })
      await waitUntil('no run in flight', async () => ((await stack.api.runs.list.query({ status: 'running' })).items.length + (await stack.api.runs.list.query({ status: 'queued' })).items.length === 0 ? true : undefined), 60_000, 200)
      const long = await stack.api.runs.start.mutate({ script: `import { sleep } from 'k6'\nexport const options = { vus: 1, duration: '10s' }\nexport default function () { sleep(1) }`, location: 'us-east' })
      await expect(stack.api.runs.start.mutate({ script: SCRIPT, location: 'us-east' })).rejects.toThrow(
        /already has 1 run\(s\) queued or running and allows at most 1 at a time; wait for one to finish, cancel one, or ask an admin to raise maxConcurrentRuns/,
      )
      await stack.api.runs.cancel.mutate({ id: long.id })
      await finished(stack.api, long.id)
      await finished(stack.api, (await stack.api.runs.start.mutate({ script: SCRIPT, location: 'us-east' })).id)
    } finally {
      await owner.api.projects.update.mutate({ projectId: world.projectId, maxConcurrentRuns: 50, maxVus: null, maxDurationSeconds: null })
    }
  }, 120_000)

  it('answers errors without stack traces', async () => {
    const res = await fetch(`${stack.apiUrl}/trpc/runs.byId?input=${encodeURIComponent(JSON.stringify({ id: randomUUID() }))}`, { headers: { authorization: `Bearer ${stack.token}` } })
    const body = (await res.json()) as { error: { message: string; data: Record<string, unknown> } }
    expect(res.status).toBe(404)
    expect(body.error.message).toMatch(/^run .* does not exist$/)
    expect(body.error.data).not.toHaveProperty('stack')
  })

  it('refuses bodies over the limit with a clear message', async () => {
    const res = await fetch(`${stack.apiUrl}/trpc/tests.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
      body: JSON.stringify({ name: 'big', script: 'x'.repeat(3 * 1024 * 1024) }),
    })
    expect(res.status).toBe(413)
    expect(await res.text()).toContain('request body is larger than this API accepts (2097152 bytes, API_BODY_LIMIT)')
  })

  it('validates the target allowlist an admin sets', async () => {
    await expect(owner.api.projects.update.mutate({ projectId: world.projectId, allowlist: ['10.0.0.300', 'api.internal', '10.1.2.3/8'] })).rejects.toThrow(/allowlist\.0: .*10\.0\.0\.300.*; allowlist\.2: .*did you mean 10\.0\.0\.0\/8/)
    const updated = await owner.api.projects.update.mutate({ projectId: world.projectId, allowlist: ['10.1.2.3', 'API.internal', '192.168.0.0/16'] })
    expect(updated.allowlist).toEqual(['10.1.2.3/32', 'api.internal', '192.168.0.0/16'])
    await owner.api.projects.update.mutate({ projectId: world.projectId, allowlist: [] })
  })
})

describe('the audit log', () => {
  it('records who created, changed, deleted, started and cancelled what, for admins only', async () => {
    const t = await stack.api.tests.create.mutate({ name: unique('audited'), script: SCRIPT })
    await owner.api.tests.update.mutate({ id: t.id, description: 'changed', secrets: [{ name: 'PASSWORD', value: 'audit-secret-value' }] })
    const run = await stack.api.runs.start.mutate({ testId: t.id, location: 'us-east' })
    await stack.api.runs.cancel.mutate({ id: run.id })
    await stack.api.tests.delete.mutate({ id: t.id })
    const { items } = await owner.api.audit.list.query({ projectId: world.projectId, limit: 200 })
    const about = items.filter((e) => e.targetId === t.id || e.targetId === run.id).map((e) => `${e.action} by ${e.actor}`)
    // The run may have finished before the cancel arrived; then there is nothing to cancel.
    expect(about.filter((a) => !a.startsWith('run.cancel')).sort()).toEqual(
      ['test.create by token "e2e"', `test.update by ${ADMIN.email}`, 'run.start by token "e2e"', 'test.delete by token "e2e"'].sort(),
    )
    expect(JSON.stringify(items)).not.toContain('audit-secret-value')
    expect(items.find((e) => e.action === 'test.update' && e.targetId === t.id)?.details).toMatchObject({ secretsSet: ['PASSWORD'] })
    const viewer = callers.find((c) => c.name === 'viewer')!
    await expect(viewer.api.audit.list.query({ projectId: world.projectId })).rejects.toThrow(/does not allow you to manage members, tokens/)
    await finished(stack.api, run.id)
  })
})
