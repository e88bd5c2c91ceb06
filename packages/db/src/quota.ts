// The one place a project's run quota (maxConcurrentRuns) is read, for every way a run is
// created (runs.start, a job's firing): under the project's advisory lock, so two starts cannot
// both take its last slot.
import type { Prisma } from './generated/client.ts'

export interface RunQuota {
  /** The project's name, for messages. */
  name: string
  /** Its runs queued or running now. */
  inFlight: number
  /** Its maxConcurrentRuns. */
  max: number
}

/**
 * Takes the project's run-start lock (held until `tx` ends) and reads its quota; a run created in
 * the same transaction after this is counted by the next caller.
 */
export async function lockRunQuota(tx: Prisma.TransactionClient, projectId: string): Promise<RunQuota> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${projectId}))::text`
  const project = await tx.project.findUniqueOrThrow({ where: { id: projectId }, select: { name: true, maxConcurrentRuns: true } })
  const inFlight = await tx.run.count({ where: { projectId, status: { in: ['queued', 'running'] } } })
  return { name: project.name, inFlight, max: project.maxConcurrentRuns }
}
