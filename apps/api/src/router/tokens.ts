import { TRPCError } from '@trpc/server'
import type { ApiToken, Prisma } from '@stampede/db'
import { auditListInput, optionalProjectRef, tokenCreateInput, tokenRevokeInput } from '@stampede/shared'
import { audit } from '../auth/audit.ts'
import { keysetAfter } from './keyset.ts'
import { newApiToken } from '../auth/secrets.ts'
import { projectProcedure, router } from '../trpc.ts'

const toTokenDto = (t: ApiToken) => ({
  id: t.id,
  projectId: t.projectId,
  name: t.name,
  scope: t.scope,
  prefix: t.prefix,
  createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt?.toISOString() ?? null,
  revokedAt: t.revokedAt?.toISOString() ?? null,
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
})

export const tokensRouter = router({
  /** Creates a token; the answer is the only time its secret is shown. */
  create: projectProcedure('admin').input(tokenCreateInput).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null
    if (expiresAt && expiresAt <= new Date()) throw new TRPCError({ code: 'BAD_REQUEST', message: 'expiresAt: must be in the future' })
    const { token, prefix, hash } = newApiToken()
    const row = await ctx.db.apiToken.create({
      data: { projectId, name: input.name, scope: input.scope, prefix, hash, expiresAt, createdById: ctx.actor.kind === 'user' ? ctx.actor.id : null },
    })
    await audit(ctx.db, ctx.actor, projectId, { action: 'token.create', targetType: 'token', targetId: row.id, details: { name: input.name, scope: input.scope } })
    return { ...toTokenDto(row), token }
  }),

  list: projectProcedure('admin').input(optionalProjectRef).query(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    const rows = await ctx.db.apiToken.findMany({ where: { projectId }, orderBy: { createdAt: 'desc' } })
    return rows.map(toTokenDto)
  }),

  /** Revokes a token; the next request made with it is refused. */
  revoke: projectProcedure('admin').input(tokenRevokeInput).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.token(input.id)
    const row = await ctx.db.apiToken.update({ where: { id: input.id }, data: { revokedAt: new Date() } })
    await audit(ctx.db, ctx.actor, projectId, { action: 'token.revoke', targetType: 'token', targetId: row.id, details: { name: row.name } })
    return toTokenDto(row)
  }),
})

export const auditRouter = router({
  /** The project's audit log, newest first. */
  list: projectProcedure('admin').input(auditListInput).query(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    let where: Prisma.AuditEventWhereInput = { projectId }
    if (input.cursor) {
      // Keyset paging: the (project_id, at, id) index starts at the cursor's event.
      const cursor = await ctx.db.auditEvent.findUnique({ where: { id: input.cursor }, select: { at: true } })
      if (!cursor) return { items: [], nextCursor: null }
      where = { ...where, ...keysetAfter('at', { at: cursor.at, id: input.cursor }) }
    }
    const rows = await ctx.db.auditEvent.findMany({
      where,
      select: { id: true, at: true, actorType: true, actorId: true, actorLabel: true, action: true, targetType: true, targetId: true, details: true },
      orderBy: [{ at: 'desc' }, { id: 'desc' }],
      take: input.limit + 1,
    })
    const page = rows.slice(0, input.limit)
    return {
      items: page.map((e) => ({ id: e.id, at: e.at.toISOString(), actorType: e.actorType, actorId: e.actorId, actor: e.actorLabel, action: e.action, targetType: e.targetType, targetId: e.targetId, details: e.details })),
      nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
    }
  }),
})
