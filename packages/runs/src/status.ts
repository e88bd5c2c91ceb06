// A run's status moves only forward: queued → running → a final status. createRun (create.ts)
// makes it queued, markRunning running, recordRunResult (result.ts) final; failedToStart ends a
// run whose workflow could not be started.
import type { Db, Prisma } from '@stampede/db'

/**
 * queued → running, at `startedAt`. Idempotent: true when this call moved the run; a run already
 * running, finished or gone is left as it is (a retried activity does not move startedAt).
 */
export async function markRunning(db: Db | Prisma.TransactionClient, runId: string, startedAt: Date): Promise<boolean> {
  const { count } = await db.run.updateMany({ where: { id: runId, status: 'queued' }, data: { status: 'running', startedAt } })
  return count > 0
}

/** queued → error, when the run's workflow could not be started (nothing ran). */
export async function failedToStart(db: Db, runId: string, message: string): Promise<void> {
  await db.run.updateMany({ where: { id: runId, status: 'queued' }, data: { status: 'error', errorMessage: message, finishedAt: new Date() } })
}
