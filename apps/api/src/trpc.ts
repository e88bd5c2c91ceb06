// tRPC is initialised once here. Plain JSON on the wire (no transformer) so any HTTP client can
// call the API; input errors name the field that is wrong.
//
// Every procedure refuses input Postgres cannot store (a NUL character in any string) before its
// schema runs. An error that says the database, Temporal or S3 is out of reach answers
// SERVICE_UNAVAILABLE naming the part in plain words (faults.ts); any other unexpected error
// (anything but a TRPCError thrown on purpose) reaches the client only as `internal error <id>`.
// The server log has the full error either way.
//
// Every procedure declares its access rule in `meta` and passes through one middleware that
// enforces it: `public` (sign-in and bootstrap), `signed-in` (any caller with credentials), or a
// permission (`read`, `write`, `admin`, `owner`) that the procedure's project lookups through
// `ctx.access` check against the caller's role or token scope. A procedure without a rule fails.
import { initTRPC, TRPCError } from '@trpc/server'
import { ZodError, ZodRealError } from 'zod'
import { findUnstorableText, type Permission } from '@stampede/shared'
import type { Access } from './auth/access.ts'
import { SIGN_IN_HINT, type Actor } from './auth/actor.ts'
import { authorize } from './auth/authorize.ts'
import type { Context } from './context.ts'
import { isUnexpectedError, reportFault, reportInternalError, toTrpcError } from './faults.ts'

export type AccessRule = 'public' | 'signed-in' | Permission
export interface ProcedureMeta {
  access: AccessRule
}

/** One id per error, should the formatter see the same error twice. */
const internalMessages = new WeakMap<TRPCError, string>()

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    // Never send stack traces to clients.
    isDev: false,
    errorFormatter({ shape, error, path }) {
      if (error.code === 'BAD_REQUEST' && error.cause instanceof ZodError) {
        const issues = error.cause.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
        return {
          ...shape,
          // An issue about the whole input (wrong type, unknown key) is named `input`.
          message: issues.map((i) => `${i.path || 'input'}: ${i.message}`).join('; '),
          data: { ...shape.data, issues },
        }
      }
      if (error.code === 'BAD_REQUEST' && error.cause instanceof SyntaxError) {
        // tRPC could not parse the body or `?input=` as JSON.
        return { ...shape, message: `input: is not valid JSON (${error.cause.message.replaceAll('\0', '\\u0000')})` }
      }
      if (isUnexpectedError(error)) {
        let message = internalMessages.get(error)
        if (message === undefined) {
          message = reportInternalError(error.cause ?? error, path ?? 'the API')
          internalMessages.set(error, message)
        }
        return { ...shape, message }
      }
      return shape
    },
  })

/**
 * The outermost middleware: an error from anywhere below (the access check's database lookups
 * included) that says the database, Temporal or S3 is out of reach answers SERVICE_UNAVAILABLE
 * with the plain message naming the part; the log gets that message and the whole error.
 */
const answerFaultsPlainly = t.middleware(async ({ path, next }) => {
  const result = await next()
  if (result.ok) return result
  const answer = toTrpcError(result.error)
  if (answer === result.error) return result
  reportFault(answer.message, result.error.cause ?? result.error, path)
  throw answer
})

const enforceAccess = t.middleware(async ({ ctx, meta, path, type, next }) => {
  const rule = meta?.access
  if (!rule) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `procedure ${path} declares no access rule` })
  const none: { actor: Actor | null; access: Access | null } = { actor: null, access: null }
  if (rule === 'public') return next({ ctx: none })
  const authed: typeof none = await authorize(ctx, ctx.request, { permission: rule === 'signed-in' ? 'read' : rule, change: type === 'mutation' })
  return next({ ctx: authed })
})

/**
 * Refuses, with the field's path, any string in the raw input (at any depth, record keys too)
 * holding a NUL character, which Postgres text and jsonb columns cannot store, and input nested
 * deeper than any procedure takes. This is a middleware of the one base procedure rather than a
 * string helper in the schemas because every procedure is built from `procedure` below (`t` is
 * not exported), so a procedure added later is covered without anyone remembering it; a schema
 * helper would miss every plain `z.string()`, record key and `z.unknown()` someone writes.
 * It runs after the access check, so a caller without credentials still gets UNAUTHORIZED first.
 */
const refuseUnstorableInput = t.middleware(async ({ getRawInput, next }) => {
  const problems = findUnstorableText(await getRawInput())
  if (problems.length > 0) {
    const cause = new ZodRealError(problems.map((p) => ({ code: 'custom' as const, path: p.path, message: p.message, input: undefined })))
    throw new TRPCError({ code: 'BAD_REQUEST', message: problems.map((p) => `${p.path.join('.') || 'input'}: ${p.message}`).join('; '), cause })
  }
  return next()
})

export const router = t.router
export const createCallerFactory = t.createCallerFactory
const procedure = t.procedure.use(answerFaultsPlainly).use(enforceAccess).use(refuseUnstorableInput)
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
