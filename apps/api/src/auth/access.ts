// Authorisation, in one place: every project-scoped read or change asks an Access object built
// by the access middleware with the procedure's declared permission. A caller who is not a
// member of a project gets the same NOT_FOUND as for an id that does not exist, so ids of other
// projects leak nothing; a member whose role is too low gets FORBIDDEN naming what is missing.
import { TRPCError } from '@trpc/server'
import type { Db, ProjectRole, Run } from '@stampede/db'
import { describePermission, roleAllows, scopeAllows, type Permission } from '@stampede/shared'
import type { Actor } from './actor.ts'

export interface ProjectAccess {
  id: string
  name: string
  /** The member's role, or for a token its scope. */
  role: ProjectRole | `token:${string}`
}

export class Access {
  private memberships: Promise<Map<string, { name: string; role: ProjectRole }>> | undefined

  constructor(
    private readonly db: Db,
    readonly actor: Actor,
    /** The permission the running procedure declared. */
    readonly permission: Permission,
  ) {}

  /** The projects the caller can see, with the caller's role in each. */
  async projects(): Promise<ProjectAccess[]> {
    if (this.actor.kind === 'token') {
      const project = await this.db.project.findUnique({ where: { id: this.actor.projectId }, select: { id: true, name: true } })
      return project ? [{ ...project, role: `token:${this.actor.scope}` }] : []
    }
    return [...(await this.userMemberships()).entries()].map(([id, m]) => ({ id, name: m.name, role: m.role }))
  }

  /**
   * The project a procedure acts on: `projectId` when given (checked), otherwise the caller's only
   * project. Throws when the caller may not act on it with the procedure's permission.
   */
  async project(projectId: string | undefined): Promise<string> {
    if (projectId !== undefined) {
      await this.check(projectId, () => `project ${projectId} does not exist`)
      return projectId
    }
    if (this.actor.kind === 'token') {
      await this.check(this.actor.projectId, () => 'this token\'s project no longer exists')
      return this.actor.projectId
    }
    const projects = await this.projects()
    if (projects.length === 1) {
      await this.check(projects[0]!.id, () => 'project does not exist')
      return projects[0]!.id
    }
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message:
        projects.length === 0
          ? 'projectId: you are not a member of any project; create one with projects.create or ask an admin to add you'
          : `projectId: is required because you belong to ${projects.length} projects (${projects.map((p) => `${p.name} = ${p.id}`).join(', ')})`,
    })
  }

  /**
   * Run `id`, checked; NOT_FOUND when it does not exist or is not the caller's. The whole row,
   * since every caller goes on to read it.
   */
  async run(id: string): Promise<Run> {
    const notFound = `run ${id} does not exist`
    const row = await this.db.run.findUnique({ where: { id } })
    if (!row) this.missing(notFound)
    await this.owned(row.projectId, notFound)
    return row
  }

  async test(id: string): Promise<string> {
    const row = await this.db.test.findUnique({ where: { id }, select: { projectId: true } })
    return this.owned(row?.projectId, `test ${id} does not exist`)
  }

  async job(id: string): Promise<string> {
    const row = await this.db.job.findUnique({ where: { id }, select: { projectId: true } })
    return this.owned(row?.projectId, `job ${id} does not exist`)
  }

  async token(id: string): Promise<string> {
    const row = await this.db.apiToken.findUnique({ where: { id }, select: { projectId: true } })
    return this.owned(row?.projectId, `token ${id} does not exist`)
  }

  /** Whether the caller has `permission` (default: the procedure's) on `projectId`. */
  async can(projectId: string, permission: Permission = this.permission): Promise<boolean> {
    if (this.actor.kind === 'token') return this.actor.projectId === projectId && scopeAllows(this.actor.scope, permission)
    const role = (await this.userMemberships()).get(projectId)?.role
    return role !== undefined && roleAllows(role, permission)
  }

  /** The caller's role in `projectId` (users only; null for tokens and non-members). */
  async roleIn(projectId: string): Promise<ProjectRole | null> {
    if (this.actor.kind === 'token') return null
    return (await this.userMemberships()).get(projectId)?.role ?? null
  }

  private missing(notFound: string): never {
    throw new TRPCError({ code: 'NOT_FOUND', message: notFound })
  }

  private async owned(projectId: string | undefined, notFound: string): Promise<string> {
    if (projectId === undefined) this.missing(notFound)
    await this.check(projectId, () => notFound)
    return projectId
  }

  private async check(projectId: string, notFound: () => string, permission: Permission = this.permission): Promise<void> {
    const { actor } = this
    if (actor.kind === 'token') {
      if (actor.projectId !== projectId) throw new TRPCError({ code: 'NOT_FOUND', message: notFound() })
      if (!scopeAllows(actor.scope, permission)) {
        throw new TRPCError({
          code: 'FORBIDDEN',
          message: `this token's scope (${actor.scope}) does not allow you to ${describePermission(permission)}; use a token with scope ${permission === 'read' ? 'read' : permission === 'write' ? 'run' : 'admin'}`,
        })
      }
      return
    }
    const membership = (await this.userMemberships()).get(projectId)
    if (!membership) throw new TRPCError({ code: 'NOT_FOUND', message: notFound() })
    if (!roleAllows(membership.role, permission)) {
      throw new TRPCError({
        code: 'FORBIDDEN',
        message: `your role in project "${membership.name}" (${membership.role}) does not allow you to ${describePermission(permission)}; ask an owner or admin of the project`,
      })
    }
  }

  private userMemberships() {
    return (this.memberships ??= this.db.membership
      .findMany({ where: { userId: this.actor.id }, select: { role: true, project: { select: { id: true, name: true } } }, orderBy: { project: { name: 'asc' } } })
      .then((rows) => new Map(rows.map((r) => [r.project.id, { name: r.project.name, role: r.role }]))))
  }
}
