// What the UI offers follows the caller's role: the API enforces every right itself, so these
// helpers only keep the UI from offering what would be refused. Roles come from auth.me, where
// an API token appears as `token:<scope>`.
import { PROJECT_ROLES, roleAllows, scopeAllows, TOKEN_SCOPES, type Permission, type ProjectRole, type TokenScope } from '@stampede/shared'

/** A role as auth.me and projects.list report it. */
export type ProjectAccessRole = ProjectRole | `token:${string}`

export interface ProjectChoice {
  id: string
  name: string
  role: ProjectAccessRole
}

const isRole = (role: string): role is ProjectRole => (PROJECT_ROLES as readonly string[]).includes(role)
const isScope = (scope: string): scope is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(scope)

/** Whether `role` has `permission`; an unknown role has none. */
export function projectAllows(role: ProjectAccessRole | null | undefined, permission: Permission): boolean {
  if (!role) return false
  if (role.startsWith('token:')) {
    const scope = role.slice('token:'.length)
    return isScope(scope) && scopeAllows(scope, permission)
  }
  return isRole(role) && roleAllows(role, permission)
}

/** The least role that has `permission`, for "you need the … role" messages. */
export function roleFor(permission: Permission): ProjectRole {
  return [...PROJECT_ROLES].reverse().find((role) => roleAllows(role, permission)) ?? 'owner'
}

/** Roles the caller may give others: only an owner makes owners. */
export function assignableRoles(callerRole: ProjectAccessRole | null | undefined): ProjectRole[] {
  if (!projectAllows(callerRole, 'admin')) return []
  return PROJECT_ROLES.filter((role) => role !== 'owner' || projectAllows(callerRole, 'owner'))
}

/** The project to show: the remembered one while the caller still belongs to it, else the first. */
export function chooseProject(projects: readonly ProjectChoice[], remembered: string | null | undefined): string | null {
  if (remembered && projects.some((p) => p.id === remembered)) return remembered
  return projects[0]?.id ?? null
}
