// tRPC is initialised once here. Plain JSON on the wire (no transformer) so any HTTP client can
// call the API; input errors name the field that is wrong.
//
// Every procedure declares its access rule in `meta` and passes through one middleware that
// enforces it: `public` (sign-in and bootstrap), `signed-in` (any caller with credentials), or a
// permission (`read`, `write`, `admin`, `owner`) that the procedure's project lookups through
// `ctx.access` check against the caller's role or token scope. A procedure without a rule fails.
import { initTRPC, TRPCError } from '@trpc/server'
import { ZodError } from 'zod'
import type { Permission } from '@stampede/shared'
import { Access } from './auth/access.ts'
import { resolveActor, SIGN_IN_HINT, type Actor } from './auth/actor.ts'
import { safeEqual } from './auth/secrets.ts'
import type { Context } from './context.ts'

export type AccessRule = 'public' | 'signed-in' | Permission
export interface ProcedureMeta {
  access: AccessRule
}

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    // Never send stack traces to clients; internal errors are logged by the server (onError).
    isDev: false,
    errorFormatter({ shape, error }) {
      if (error.code === 'BAD_REQUEST' && error.cause instanceof ZodError) {
        const issues = error.cause.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
        return {
          ...shape,
          message: issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '),
          data: { ...shape.data, issues },
        }
      }
      return shape
    },
  })

/** Refuses cookie-authenticated calls from foreign pages and mutations without the CSRF token. */
function checkCookieRequest(ctx: Context, actor: Extract<Actor, { kind: 'user' }>, type: string): void {
  const { origin, csrf } = ctx.request
  if (origin !== undefined && !ctx.config.webOrigins.includes(origin)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `requests from ${origin} may not use a Stampede session; use an API token` })
  }
  if (type === 'mutation' && (csrf === undefined || !safeEqual(csrf, actor.csrfToken))) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'missing or wrong x-stampede-csrf header: changes made with a session cookie must send the CSRF token from auth.me' })
  }
}

const enforceAccess = t.middleware(async ({ ctx, meta, path, type, next }) => {
  const rule = meta?.access
  if (!rule) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `procedure ${path} declares no access rule` })
  const none: { actor: Actor | null; access: Access | null } = { actor: null, access: null }
  if (rule === 'public') return next({ ctx: none })
  const actor = await resolveActor(ctx.db, ctx.request)
  if (!actor) throw new TRPCError({ code: 'UNAUTHORIZED', message: `not signed in: ${SIGN_IN_HINT}` })
  if (actor.kind === 'user') checkCookieRequest(ctx, actor, type)
  else ctx.tokenLimiter.take(actor.id, actor.name)
  const authed: typeof none = { actor, access: new Access(ctx.db, actor, rule === 'signed-in' ? 'read' : rule) }
  return next({ ctx: authed })
})

export const router = t.router
export const createCallerFactory = t.createCallerFactory
const procedure = t.procedure.use(enforceAccess)
type Authed = typeof procedure

/** Sign-in, bootstrap and invitations: no credentials needed. */
export const publicProcedure = procedure.meta({ access: 'public' })
/** Any signed-in user or API token. */
export const signedInProcedure = narrow(procedure.meta({ access: 'signed-in' }))
/** Procedures on a project's objects; `ctx.access` checks `permission` on the project they resolve. */
export const projectProcedure = (permission: Permission) => narrow(procedure.meta({ access: permission }))

/** After the middleware, `actor` and `access` are present for every rule but `public`. */
function narrow(p: Authed) {
  return p.use(({ ctx, next }) => {
    if (!ctx.actor || !ctx.access) throw new TRPCError({ code: 'UNAUTHORIZED', message: `not signed in: ${SIGN_IN_HINT}` })
    return next({ ctx: { actor: ctx.actor, access: ctx.access } })
  })
}
