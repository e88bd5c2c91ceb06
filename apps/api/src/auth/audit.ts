// The audit log: who created, changed, deleted, started or cancelled what in a project, and when.
import type { Db, Prisma } from '@stampede/db'
import { actorLabel, type Actor } from './actor.ts'

export interface AuditEntry {
  action: string
  targetType: string
  targetId?: string | null
  details?: Prisma.InputJsonValue
}

export async function audit(db: Db | Prisma.TransactionClient, actor: Actor, projectId: string, entry: AuditEntry): Promise<void> {
  await db.auditEvent.create({
    data: {
      projectId,
      actorType: actor.kind,
      actorId: actor.id,
      actorLabel: actorLabel(actor),
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      ...(entry.details !== undefined ? { details: entry.details } : {}),
    },
  })
}
