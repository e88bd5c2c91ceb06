// A run's status moves only forward: queued → running → a final status. These are the
// transitions the orchestration activities make outside the final result (recordRunResult).
import type { Db, Prisma } from '@stampede/db'

/**
 * queued → running, at `startedAt`. Idempotent: true when this call moved the run; a run already
 * running, finished or gone is left as it is (a retried activity does not move startedAt).
 */
export async function markRunning(db: Db | Prisma.TransactionClient, runId: string, startedAt: Date): Promise<boolean> {
  const { count } = await db.run.updateMany({ where: { id: runId, status: 'queued' }, data: { status: 'running', startedAt } })
  return count > 0
}
