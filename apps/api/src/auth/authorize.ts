// Who is calling, and may they: the one check every authenticated request passes, a tRPC
// procedure's (trpc.ts) and the upload route's (files/upload.ts) alike. A session cookie is taken
// only from the web UI's origins, and a change made with one must carry the CSRF token; an API
// token is held to its request rate. Throws the TRPCError the caller answers with.
import { TRPCError } from '@trpc/server'
import type { Permission } from '@stampede/shared'
import type { Services } from '../context.ts'
import { Access } from './access.ts'
import { resolveActor, SIGN_IN_HINT, type Actor, type RequestInfo } from './actor.ts'
import { safeEqual } from './secrets.ts'

/** Refuses cookie-authenticated calls from foreign pages and changes without the CSRF token. */
function checkCookieRequest(request: RequestInfo, webOrigins: readonly string[], actor: Extract<Actor, { kind: 'user' }>, change: boolean): void {
  const { origin, csrf } = request
  if (origin !== undefined && !webOrigins.includes(origin)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `requests from ${origin} may not use a Stampede session; use an API token` })
  }
  if (change && (csrf === undefined || !safeEqual(csrf, actor.csrfToken))) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'missing or wrong x-stampede-csrf header: changes made with a session cookie must send the CSRF token from auth.me' })
  }
}

/**
 * The caller of `request` and its Access for `permission`; UNAUTHORIZED without credentials,
 * FORBIDDEN for a session from a foreign page or a change without the CSRF token,
 * TOO_MANY_REQUESTS for a token past its rate.
 */
export async function authorize(
  services: Pick<Services, 'db' | 'config' | 'tokenLimiter'>,
  request: RequestInfo,
  opts: { permission: Permission; change: boolean },
): Promise<{ actor: Actor; access: Access }> {
  const actor = await resolveActor(services.db, request)
  if (!actor) throw new TRPCError({ code: 'UNAUTHORIZED', message: `not signed in: ${SIGN_IN_HINT}` })
  if (actor.kind === 'user') checkCookieRequest(request, services.config.webOrigins, actor, opts.change)
  else services.tokenLimiter.take(actor.id, actor.name)
  return { actor, access: new Access(services.db, actor, opts.permission) }
}
