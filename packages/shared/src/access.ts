// Accounts, projects, roles and API tokens: the input schemas of auth.*, projects.*, members.*,
// tokens.* and audit.*, and the one table of what each role and token scope may do.
import { z } from 'zod'
import { cursorSchema, idSchema, INT4_MAX, wholeNumber } from './input.ts'

export const PROJECT_ROLES = ['owner', 'admin', 'editor', 'viewer'] as const
export type ProjectRole = (typeof PROJECT_ROLES)[number]
export const TOKEN_SCOPES = ['read', 'run', 'admin'] as const
export type TokenScope = (typeof TOKEN_SCOPES)[number]

/**
 * What a procedure needs on its project. `read`: see tests, runs, consoles, results.
 * `write`: create, edit and delete tests and their variables, start and cancel runs.
 * `admin`: members, tokens, the target allowlist, quotas, the audit log. `owner`: delete the
 * project, make or unmake owners.
 */
export const PERMISSIONS = ['read', 'write', 'admin', 'owner'] as const
export type Permission = (typeof PERMISSIONS)[number]

const LEVEL: Record<Permission, number> = { read: 0, write: 1, admin: 2, owner: 3 }
const ROLE_LEVEL: Record<ProjectRole, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 }
/** A token acts with its scope's rights, never an owner's. */
const SCOPE_LEVEL: Record<TokenScope, number> = { read: 0, run: 1, admin: 2 }

export const roleAllows = (role: ProjectRole, permission: Permission) => ROLE_LEVEL[role] >= LEVEL[permission]
export const scopeAllows = (scope: TokenScope, permission: Permission) => SCOPE_LEVEL[scope] >= LEVEL[permission]

const DESCRIBE: Record<Permission, string> = {
  read: 'see this project',
  write: 'create or change tests and start or cancel runs',
  admin: 'manage members, tokens, the target allowlist, quotas or the audit log',
  owner: 'delete the project or change its owners',
}
export const describePermission = (permission: Permission) => DESCRIBE[permission]

export const projectIdSchema = idSchema()

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: 'must be an email address such as ada@example.com' }).max(254, 'must be at most 254 characters'))
export const passwordSchema = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(256, 'must be at most 256 characters')
const nameSchema = z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters')
const oneTimeTokenSchema = z.string().trim().min(20, 'must be the whole token from the link').max(200, 'is too long to be a Stampede token')

export const loginInput = z.object({ email: emailSchema, password: z.string().min(1, 'is required').max(256, 'must be at most 256 characters') })
export const bootstrapInput = z.object({ token: oneTimeTokenSchema, email: emailSchema, name: nameSchema, password: passwordSchema })
export const acceptInviteInput = z.object({ token: oneTimeTokenSchema, name: nameSchema, password: passwordSchema })

export const projectCreateInput = z.object({ name: nameSchema })
export const projectRef = z.object({ projectId: projectIdSchema })
/** Procedures that act on "the" project: optional when the caller has exactly one (always so for a token). */
export const optionalProjectRef = z.object({ projectId: projectIdSchema.optional() }).default({})

export const MAX_ALLOWLIST_ENTRIES = 100
export const projectUpdateInput = z.object({
  projectId: projectIdSchema,
  name: nameSchema.optional(),
  /** Private targets k6 may reach: CIDRs (10.1.0.0/16), addresses (10.1.2.3) or hostnames (api.internal). Replaces the list. */
  allowlist: z.array(z.string().trim().min(1).max(253)).max(MAX_ALLOWLIST_ENTRIES, `must have at most ${MAX_ALLOWLIST_ENTRIES} entries`).optional(),
  maxConcurrentRuns: wholeNumber(1, 1000).optional(),
  /** null: the platform's cap (MAX_VUS). The API also refuses values above that cap. */
  maxVus: wholeNumber(1, INT4_MAX).nullable().optional(),
  /** null: the platform's cap (MAX_DURATION_SECONDS). The API also refuses values above that cap. */
  maxDurationSeconds: wholeNumber(1, INT4_MAX).nullable().optional(),
})

export const memberAddInput = z.object({ projectId: projectIdSchema, email: emailSchema, role: z.enum(PROJECT_ROLES, { error: `must be one of ${PROJECT_ROLES.join(', ')}` }) })
export const memberSetRoleInput = z.object({ projectId: projectIdSchema, userId: idSchema(), role: memberAddInput.shape.role })
export const memberRemoveInput = z.object({ projectId: projectIdSchema, userId: idSchema() })

export const tokenCreateInput = z.object({
  projectId: projectIdSchema.optional(),
  name: nameSchema,
  scope: z.enum(TOKEN_SCOPES, { error: `must be one of ${TOKEN_SCOPES.join(', ')} (read: see; run: push tests and run them; admin: manage the project)` }),
  /** ISO date-time; absent: the token does not expire. */
  expiresAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2027-01-31T00:00:00Z' }).optional(),
})
export const tokenRevokeInput = z.object({ id: idSchema() })

export const auditListInput = z.object({
  projectId: projectIdSchema.optional(),
  limit: wholeNumber(1, 200).default(50),
  cursor: cursorSchema.optional(),
})
