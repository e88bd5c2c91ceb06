import type { Prisma } from '@stampede/db'
import type { Context } from '../context.ts'
import { SESSION_TTL_MS } from './actor.ts'
import { sessionCookie } from './cookies.ts'
import { csrfTokenFor, randomSecret, sha256 } from './secrets.ts'

/** Creates a session for `userId`, sets its cookie, and returns the session's CSRF token. */
export async function startSession(ctx: Pick<Context, 'request' | 'setCookie' | 'config'>, db: Prisma.TransactionClient, userId: string): Promise<string> {
  const token = randomSecret()
  await db.session.create({
    data: {
      id: sha256(token),
      userId,
      expiresAt: new Date(Date.now() + SESSION_TTL_MS),
      address: ctx.request.address,
      userAgent: ctx.request.userAgent?.slice(0, 300) ?? null,
    },
  })
  ctx.setCookie(sessionCookie(token, { maxAgeSeconds: SESSION_TTL_MS / 1000, secure: ctx.config.secureCookies }))
  return csrfTokenFor(token)
}
