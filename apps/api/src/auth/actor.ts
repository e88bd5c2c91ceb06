// Who is calling: a signed-in user (session cookie) or an API token (Authorization: Bearer).
// Resolved once per request by the access middleware in trpc.ts and by the console WebSocket.
import { TRPCError } from '@trpc/server'
import type { Db } from '@stampede/db'
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
  const row = await db.apiToken.findUnique({ where: { hash: sha256(token) } })
  if (!row) throw unauthorized('this API token is not known; it may have been mistyped or its project deleted')
  if (row.revokedAt) throw unauthorized(`this API token ("${row.name}") was revoked on ${row.revokedAt.toISOString()}`)
  if (row.expiresAt && row.expiresAt <= now) throw unauthorized(`this API token ("${row.name}") expired on ${row.expiresAt.toISOString()}`)
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > TOKEN_TOUCH_MS) {
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } }).catch(() => {})
  }
  return { kind: 'token', id: row.id, name: row.name, projectId: row.projectId, scope: row.scope }
}

export const actorLabel = (actor: Actor) => (actor.kind === 'user' ? actor.email : `token "${actor.name}"`)
