// Who is calling: a signed-in user (session cookie) or an API token (Authorization: Bearer).
// Resolved once per request by the access middleware in trpc.ts and by the console WebSocket.
import { TRPCError } from '@trpc/server'
import { pgQuery, type Db } from '@stampede/db'
import type { TokenScope } from '@stampede/shared'
import { SESSION_COOKIE, readCookie } from './cookies.ts'
import { csrfTokenFor, sha256, TOKEN_PREFIX } from './secrets.ts'

export type Actor =
  | { kind: 'user'; id: string; email: string; name: string; sessionId: string; csrfToken: string }
  | { kind: 'token'; id: string; name: string; projectId: string; scope: TokenScope }

/** What the access checks read off a request. */
export interface RequestInfo {
  authorization?: string | undefined
  cookie?: string | undefined
  origin?: string | undefined
  csrf?: string | undefined
  address: string
  userAgent?: string | undefined
}

export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000
/** Sessions slide: each use at least this long after the last one pushes the expiry out again. */
const SESSION_TOUCH_MS = 5 * 60 * 1000
const TOKEN_TOUCH_MS = 60 * 1000

const unauthorized = (message: string) => new TRPCError({ code: 'UNAUTHORIZED', message })

export const SIGN_IN_HINT = 'sign in to the web UI, or send `Authorization: Bearer <token>` with an API token (STAMPEDE_TOKEN for the CLI)'

/**
 * The caller, or null when the request carries no credentials. Credentials that are present but
 * invalid (unknown, revoked or expired token; ended session) throw UNAUTHORIZED saying which.
 */
export async function resolveActor(db: Db, req: RequestInfo, now = new Date()): Promise<Actor | null> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.authorization ?? '')?.[1]
  if (req.authorization !== undefined && req.authorization !== '') {
    if (!bearer) throw unauthorized('the Authorization header must be `Bearer <token>`')
    return tokenActor(db, bearer, now)
  }
  const session = readCookie(req.cookie, SESSION_COOKIE)
  if (!session) return null
  const row = await db.session.findUnique({ where: { id: sha256(session) }, include: { user: { select: { id: true, email: true, name: true } } } })
  if (!row || row.expiresAt <= now) throw unauthorized('your session has ended; sign in again')
  if (now.getTime() - row.lastSeenAt.getTime() > SESSION_TOUCH_MS) {
    await db.session.update({ where: { id: row.id }, data: { lastSeenAt: now, expiresAt: new Date(now.getTime() + SESSION_TTL_MS) } }).catch(() => {})
  }
  return { kind: 'user', id: row.user.id, email: row.user.email, name: row.user.name, sessionId: row.id, csrfToken: csrfTokenFor(session) }
}

async function tokenActor(db: Db, token: string, now: Date): Promise<Actor> {
  if (!token.startsWith(TOKEN_PREFIX)) throw unauthorized(`that is not a Stampede API token (they start with ${TOKEN_PREFIX}); create one under the project's Tokens page`)
  const row = await findToken(db, sha256(token))
  if (!row) throw unauthorized('this API token is not known; it may have been mistyped or its project deleted')
  if (row.revokedAt) throw unauthorized(`this API token ("${row.name}") was revoked on ${row.revokedAt.toISOString()}`)
  if (row.expiresAt && row.expiresAt <= now) throw unauthorized(`this API token ("${row.name}") expired on ${row.expiresAt.toISOString()}`)
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > TOKEN_TOUCH_MS) {
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } }).catch(() => {})
  }
  return { kind: 'token', id: row.id, name: row.name, projectId: row.projectId, scope: row.scope }
}

interface TokenRow {
  id: string
  name: string
  projectId: string
  scope: TokenScope
  revokedAt: Date | null
  expiresAt: Date | null
  lastUsedAt: Date | null
}

const TOKEN_BY_HASH = `SELECT id, name, project_id, scope,
  (extract(epoch FROM revoked_at) * 1000)::float8 AS revoked_at,
  (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at,
  (extract(epoch FROM last_used_at) * 1000)::float8 AS last_used_at
  FROM api_tokens WHERE hash = $1`

const epochMs = (v: number | null): Date | null => (v === null ? null : new Date(v))

/**
 * The token with this hash, read on every request made with a token: one indexed row, straight on
 * the pg pool (Prisma's own cost was most of the lookup's). Never cached, so a revoked token is
 * refused by every API instance on its next request.
 */
async function findToken(db: Db, hash: string): Promise<TokenRow | null> {
  const { rows } = await pgQuery<{ id: string; name: string; project_id: string; scope: TokenScope; revoked_at: number | null; expires_at: number | null; last_used_at: number | null }>(db, {
    text: TOKEN_BY_HASH,
    values: [hash],
  })
  const r = rows[0]
  if (!r) return null
  return { id: r.id, name: r.name, projectId: r.project_id, scope: r.scope, revokedAt: epochMs(r.revoked_at), expiresAt: epochMs(r.expires_at), lastUsedAt: epochMs(r.last_used_at) }
}

export const actorLabel = (actor: Actor) => (actor.kind === 'user' ? actor.email : `token "${actor.name}"`)
