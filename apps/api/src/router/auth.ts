import { TRPCError } from '@trpc/server'
import { acceptInviteInput, bootstrapInput, loginInput } from '@stampede/shared'
import type { Context } from '../context.ts'
import type { Actor } from '../auth/actor.ts'
import { Access } from '../auth/access.ts'
import { audit } from '../auth/audit.ts'
import { clearedSessionCookie } from '../auth/cookies.ts'
import { beginLogin, finishLogin } from '../auth/limits.ts'
import { decoyHash, hashPassword, verifyPassword } from '../auth/passwords.ts'
import { sha256 } from '../auth/secrets.ts'
import { startSession } from '../auth/sessions.ts'
import { publicProcedure, router, signedInProcedure } from '../trpc.ts'

/** Sign-in from a page that is not Stampede's web UI is refused (login CSRF). */
function assertWebOrigin(ctx: Context): void {
  const { origin } = ctx.request
  if (origin !== undefined && !ctx.config.webOrigins.includes(origin)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `sign-in from ${origin} is not allowed; add it to WEB_ORIGIN if it is a Stampede web UI` })
  }
}

async function me(ctx: Context, actor: Actor, access: Access, csrfToken?: string) {
  return {
    actor:
      actor.kind === 'user'
        ? { kind: 'user' as const, id: actor.id, email: actor.email, name: actor.name }
        : { kind: 'token' as const, id: actor.id, name: actor.name, scope: actor.scope, projectId: actor.projectId },
    projects: await access.projects(),
    /** Send as `x-stampede-csrf` on every change made with the session cookie. */
    csrfToken: csrfToken ?? (actor.kind === 'user' ? actor.csrfToken : null),
    /** Single-machine mode: k6 may reach loopback addresses. */
    loopbackTargetsAllowed: ctx.config.allowLoopbackTargets,
    /** The platform's caps; a project's own quotas can only be lower. */
    platformLimits: { maxVus: ctx.config.scriptLimits.maxVUs, maxDurationSeconds: ctx.config.scriptLimits.maxDurationSeconds },
  }
}

async function signedIn(ctx: Context, userId: string, csrfToken: string) {
  const user = await ctx.db.user.findUniqueOrThrow({ where: { id: userId } })
  const actor: Actor = { kind: 'user', id: user.id, email: user.email, name: user.name, sessionId: '', csrfToken }
  return me(ctx, actor, new Access(ctx.db, actor, 'read'), csrfToken)
}

async function useOneTimeToken(ctx: Context, token: string, kind: 'bootstrap' | 'invite') {
  const row = await ctx.db.oneTimeToken.findUnique({ where: { id: sha256(token) } })
  const what = kind === 'bootstrap' ? 'bootstrap link' : 'invitation'
  if (!row || row.kind !== kind) throw new TRPCError({ code: 'NOT_FOUND', message: `token: this ${what} is not valid; ${kind === 'bootstrap' ? 'restart the API to print a new one' : 'ask the project admin for a new invitation'}` })
  if (row.usedAt) throw new TRPCError({ code: 'CONFLICT', message: `token: this ${what} was used already; sign in instead` })
  if (row.expiresAt <= new Date()) throw new TRPCError({ code: 'NOT_FOUND', message: `token: this ${what} expired on ${row.expiresAt.toISOString()}` })
  return row
}

export const authRouter = router({
  /** Creates the first account (owner of the Default project) with the one-time bootstrap token. */
  bootstrap: publicProcedure.input(bootstrapInput).mutation(async ({ ctx, input }) => {
    assertWebOrigin(ctx)
    const row = await useOneTimeToken(ctx, input.token, 'bootstrap')
    const passwordHash = await hashPassword(input.password)
    const { userId, csrf } = await ctx.db.$transaction(async (tx) => {
      if ((await tx.user.count()) > 0) throw new TRPCError({ code: 'CONFLICT', message: 'an account exists already; sign in instead' })
      const used = await tx.oneTimeToken.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } })
      if (used.count === 0) throw new TRPCError({ code: 'CONFLICT', message: 'token: this bootstrap link was used already; sign in instead' })
      const user = await tx.user.create({ data: { email: input.email, name: input.name, passwordHash } })
      const project = (await tx.project.findFirst({ orderBy: { createdAt: 'asc' } })) ?? (await tx.project.create({ data: { name: 'Default' } }))
      await tx.membership.create({ data: { projectId: project.id, userId: user.id, role: 'owner' } })
      const actor: Actor = { kind: 'user', id: user.id, email: user.email, name: user.name, sessionId: '', csrfToken: '' }
      await audit(tx, actor, project.id, { action: 'user.bootstrap', targetType: 'user', targetId: user.id })
      return { userId: user.id, csrf: await startSession(ctx, tx, user.id) }
    })
    return signedIn(ctx, userId, csrf)
  }),

  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    assertWebOrigin(ctx)
    const { address } = ctx.request
    // Throttled per account and address, and per address (see auth/limits.ts).
    const attempt = await beginLogin(ctx.db, input.email, address)
    const user = await ctx.db.user.findUnique({ where: { email: input.email } })
    const ok = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash()))
    await finishLogin(ctx.db, attempt, input.email, address, ok && user !== null)
    if (!ok || !user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'email or password is wrong' })
    return signedIn(ctx, user.id, await startSession(ctx, ctx.db, user.id))
  }),

  /** Creates the invited account, joins its project with the invited role, and signs in. */
  acceptInvite: publicProcedure.input(acceptInviteInput).mutation(async ({ ctx, input }) => {
    assertWebOrigin(ctx)
    const row = await useOneTimeToken(ctx, input.token, 'invite')
    const passwordHash = await hashPassword(input.password)
    const { userId, csrf } = await ctx.db.$transaction(async (tx) => {
      const used = await tx.oneTimeToken.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } })
      if (used.count === 0 || !row.email || !row.projectId || !row.role) throw new TRPCError({ code: 'CONFLICT', message: 'token: this invitation was used already; sign in instead' })
      if (await tx.user.findUnique({ where: { email: row.email } })) {
        throw new TRPCError({ code: 'CONFLICT', message: `an account for ${row.email} exists already; sign in and ask the project admin to add you` })
      }
      const user = await tx.user.create({ data: { email: row.email, name: input.name, passwordHash } })
      await tx.membership.create({ data: { projectId: row.projectId, userId: user.id, role: row.role } })
      const actor: Actor = { kind: 'user', id: user.id, email: user.email, name: user.name, sessionId: '', csrfToken: '' }
      await audit(tx, actor, row.projectId, { action: 'member.join', targetType: 'user', targetId: user.id, details: { role: row.role } })
      return { userId: user.id, csrf: await startSession(ctx, tx, user.id) }
    })
    return signedIn(ctx, userId, csrf)
  }),

  me: signedInProcedure.query(({ ctx }) => me(ctx, ctx.actor, ctx.access)),

  logout: signedInProcedure.mutation(async ({ ctx }) => {
    if (ctx.actor.kind !== 'user') throw new TRPCError({ code: 'BAD_REQUEST', message: 'API tokens do not sign out; revoke the token instead' })
    await ctx.db.session.deleteMany({ where: { id: ctx.actor.sessionId } })
    ctx.setCookie(clearedSessionCookie(ctx.config.secureCookies))
    return { signedOut: 1 }
  }),

  /** Ends every session of the signed-in user, on every device. */
  logoutEverywhere: signedInProcedure.mutation(async ({ ctx }) => {
    if (ctx.actor.kind !== 'user') throw new TRPCError({ code: 'BAD_REQUEST', message: 'API tokens do not sign out; revoke the token instead' })
    const { count } = await ctx.db.session.deleteMany({ where: { userId: ctx.actor.id } })
    ctx.setCookie(clearedSessionCookie(ctx.config.secureCookies))
    return { signedOut: count }
  }),
})
