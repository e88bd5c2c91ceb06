import { TRPCError } from '@trpc/server'
import type { Project } from '@stampede/db'
import { memberAddInput, memberRemoveInput, memberSetRoleInput, projectCreateInput, projectRef, projectUpdateInput } from '@stampede/shared'
import { parseTargetAllowlist } from '@stampede/shared/targets'
import { audit } from '../auth/audit.ts'
import { randomSecret, sha256 } from '../auth/secrets.ts'
import type { Context } from '../context.ts'
import { projectProcedure, router, signedInProcedure } from '../trpc.ts'

const INVITE_TTL_MS = 7 * 24 * 3600 * 1000

export interface ProjectDto {
  id: string
  name: string
  allowlist: string[]
  maxConcurrentRuns: number
  maxVus: number | null
  maxDurationSeconds: number | null
  createdAt: string
}

export const toProjectDto = (p: Project): ProjectDto => ({
  id: p.id,
  name: p.name,
  allowlist: Array.isArray(p.allowlist) ? p.allowlist.map(String) : [],
  maxConcurrentRuns: p.maxConcurrentRuns,
  maxVus: p.maxVus,
  maxDurationSeconds: p.maxDurationSeconds,
  createdAt: p.createdAt.toISOString(),
})

async function owners(ctx: Context, projectId: string) {
  return ctx.db.membership.count({ where: { projectId, role: 'owner' } })
}

export const projectsRouter = router({
  /** The caller's projects and role in each. */
  list: signedInProcedure.query(({ ctx }) => ctx.access.projects()),

  create: signedInProcedure.input(projectCreateInput).mutation(async ({ ctx, input }) => {
    const { actor } = ctx
    if (actor.kind !== 'user') throw new TRPCError({ code: 'FORBIDDEN', message: 'API tokens belong to one project and cannot create projects; sign in to create one' })
    const project = await ctx.db.$transaction(async (tx) => {
      const p = await tx.project.create({ data: { name: input.name } })
      await tx.membership.create({ data: { projectId: p.id, userId: actor.id, role: 'owner' } })
      await audit(tx, actor, p.id, { action: 'project.create', targetType: 'project', targetId: p.id, details: { name: input.name } })
      return p
    })
    return toProjectDto(project)
  }),

  byId: projectProcedure('read').input(projectRef).query(async ({ ctx, input }) => {
    const id = await ctx.access.project(input.projectId)
    return { ...toProjectDto(await ctx.db.project.findUniqueOrThrow({ where: { id } })), role: await ctx.access.roleIn(id) }
  }),

  /** Name, target allowlist and quotas. */
  update: projectProcedure('admin').input(projectUpdateInput).mutation(async ({ ctx, input }) => {
    const id = await ctx.access.project(input.projectId)
    const { projectId: _, allowlist, ...rest } = input
    // A project's quota lies under the platform's cap (a higher one would never apply).
    const { maxVUs, maxDurationSeconds } = ctx.config.scriptLimits
    const overCap = [
      ...(rest.maxVus != null && rest.maxVus > maxVUs ? [`maxVus: must be at most ${maxVUs}, this platform's MAX_VUS (null: the platform's cap)`] : []),
      ...(rest.maxDurationSeconds != null && rest.maxDurationSeconds > maxDurationSeconds ? [`maxDurationSeconds: must be at most ${maxDurationSeconds}, this platform's MAX_DURATION_SECONDS (null: the platform's cap)`] : []),
    ]
    if (overCap.length > 0) throw new TRPCError({ code: 'BAD_REQUEST', message: overCap.join('; ') })
    let entries: string[] | undefined
    if (allowlist !== undefined) {
      const parsed = parseTargetAllowlist(allowlist)
      if (!parsed.ok) throw new TRPCError({ code: 'BAD_REQUEST', message: parsed.errors.map((e) => `allowlist.${e.index}: ${e.message}`).join('; ') })
      entries = parsed.entries
    }
    const data = { ...rest, ...(entries !== undefined ? { allowlist: entries } : {}) }
    const project = await ctx.db.project.update({ where: { id }, data })
    await audit(ctx.db, ctx.actor, id, { action: 'project.update', targetType: 'project', targetId: id, details: data })
    return toProjectDto(project)
  }),

  /** Deletes the project with its tests, runs, tokens and audit log. Refused while runs are in flight. */
  delete: projectProcedure('owner').input(projectRef).mutation(async ({ ctx, input }) => {
    const id = await ctx.access.project(input.projectId)
    const inFlight = await ctx.db.run.count({ where: { projectId: id, status: { in: ['queued', 'running'] } } })
    if (inFlight > 0) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `the project has ${inFlight} run(s) queued or running; cancel them first` })
    await ctx.db.project.delete({ where: { id } })
    return { id, deleted: true }
  }),
})

export const membersRouter = router({
  list: projectProcedure('read').input(projectRef).query(async ({ ctx, input }) => {
    const id = await ctx.access.project(input.projectId)
    const rows = await ctx.db.membership.findMany({ where: { projectId: id }, include: { user: { select: { id: true, email: true, name: true } } }, orderBy: { createdAt: 'asc' } })
    return rows.map((m) => ({ userId: m.user.id, email: m.user.email, name: m.user.name, role: m.role, since: m.createdAt.toISOString() }))
  }),

  /**
   * Adds a member by email. An existing account joins at once; otherwise the answer carries a
   * one-time invitation token (valid 7 days, shown only here) for the person to set a password.
   */
  add: projectProcedure('admin').input(memberAddInput).mutation(async ({ ctx, input }) => {
    const id = await ctx.access.project(input.projectId)
    if (input.role === 'owner' && !(await ctx.access.can(id, 'owner'))) throw new TRPCError({ code: 'FORBIDDEN', message: 'role: only an owner can add an owner' })
    const user = await ctx.db.user.findUnique({ where: { email: input.email } })
    if (user) {
      const existing = await ctx.db.membership.findUnique({ where: { projectId_userId: { projectId: id, userId: user.id } } })
      if (existing) throw new TRPCError({ code: 'CONFLICT', message: `email: ${input.email} is a member already (${existing.role}); change the role with members.setRole` })
      await ctx.db.membership.create({ data: { projectId: id, userId: user.id, role: input.role } })
      await audit(ctx.db, ctx.actor, id, { action: 'member.add', targetType: 'user', targetId: user.id, details: { email: input.email, role: input.role } })
      return { added: true as const, userId: user.id, invitationToken: null }
    }
    const token = randomSecret()
    await ctx.db.oneTimeToken.create({ data: { id: sha256(token), kind: 'invite', projectId: id, email: input.email, role: input.role, expiresAt: new Date(Date.now() + INVITE_TTL_MS) } })
    await audit(ctx.db, ctx.actor, id, { action: 'member.invite', targetType: 'invitation', details: { email: input.email, role: input.role } })
    return { added: false as const, userId: null, invitationToken: token }
  }),

  setRole: projectProcedure('admin').input(memberSetRoleInput).mutation(async ({ ctx, input }) => {
    const id = await ctx.access.project(input.projectId)
    const current = await ctx.db.membership.findUnique({ where: { projectId_userId: { projectId: id, userId: input.userId } } })
    if (!current) throw new TRPCError({ code: 'NOT_FOUND', message: `userId: ${input.userId} is not a member of this project` })
    if ((current.role === 'owner' || input.role === 'owner') && !(await ctx.access.can(id, 'owner'))) {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'role: only an owner can make or unmake owners' })
    }
    if (current.role === 'owner' && input.role !== 'owner' && (await owners(ctx, id)) === 1) {
      throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'userId: this is the project\'s last owner; make someone else owner first' })
    }
    await ctx.db.membership.update({ where: { projectId_userId: { projectId: id, userId: input.userId } }, data: { role: input.role } })
    await audit(ctx.db, ctx.actor, id, { action: 'member.setRole', targetType: 'user', targetId: input.userId, details: { from: current.role, to: input.role } })
    return { userId: input.userId, role: input.role }
  }),

  remove: projectProcedure('admin').input(memberRemoveInput).mutation(async ({ ctx, input }) => {
    const id = await ctx.access.project(input.projectId)
    const current = await ctx.db.membership.findUnique({ where: { projectId_userId: { projectId: id, userId: input.userId } } })
    if (!current) throw new TRPCError({ code: 'NOT_FOUND', message: `userId: ${input.userId} is not a member of this project` })
    if (current.role === 'owner') {
      if (!(await ctx.access.can(id, 'owner'))) throw new TRPCError({ code: 'FORBIDDEN', message: 'userId: only an owner can remove an owner' })
      if ((await owners(ctx, id)) === 1) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'userId: this is the project\'s last owner; make someone else owner first' })
    }
    await ctx.db.membership.delete({ where: { projectId_userId: { projectId: id, userId: input.userId } } })
    await audit(ctx.db, ctx.actor, id, { action: 'member.remove', targetType: 'user', targetId: input.userId, details: { role: current.role } })
    return { userId: input.userId, removed: true }
  }),
})
