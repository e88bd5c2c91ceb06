// Jobs as Temporal Schedules. Temporal is the source of firing truth: every job is mirrored as
// the schedule `job-<jobId>` whose action starts `jobFiring`. Every change to a job goes through
// here, and reconcile() repairs and reports drift between the database and Temporal.
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions, type ScheduleDescription } from '@temporalio/client'
import type { Db, Prisma } from '@stampede/db'
import { JOB_FIRING_WORKFLOW, ORCHESTRATION_QUEUE, jobIdFromScheduleId, scheduleIdFor, type JobFiringInput } from '@stampede/shared/temporal'

export type JobRow = Prisma.JobGetPayload<object>

const OVERLAP = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
} as const

export const overlapFor = (job: Pick<JobRow, 'overlapPolicy'>) => OVERLAP[job.overlapPolicy]

/** The schedule a job should have. `firings`: how many the job has had (for maxFirings). */
export function scheduleOptionsFor(job: JobRow, firings: number): ScheduleOptions {
  const args: [JobFiringInput] = [{ jobId: job.id }]
  const remaining = job.maxFirings === null ? undefined : Math.max(0, job.maxFirings - firings)
  return {
    scheduleId: scheduleIdFor(job.id),
    spec: { cronExpressions: [job.cron], timezone: job.timezone, ...(job.endAt ? { endAt: job.endAt } : {}) },
    action: { type: 'startWorkflow', workflowType: JOB_FIRING_WORKFLOW, taskQueue: ORCHESTRATION_QUEUE, workflowId: scheduleIdFor(job.id), args },
    policies: { overlap: overlapFor(job), catchupWindow: '1 minute' },
    state: { paused: !job.enabled, ...(remaining !== undefined ? { remainingActions: remaining } : {}) },
  }
}

/** Why Temporal refused a spec, as a field-named message. */
export function scheduleError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  if (/time ?zone|location/i.test(message)) return `timezone: Temporal refused it (${message})`
  return `cron: Temporal refused the expression (${message}); use 5 fields (minute hour day-of-month month day-of-week), 6 (+ year) or 7 (second first, + year)`
}

export async function createSchedule(temporal: Client, job: JobRow, firings = 0): Promise<void> {
  await temporal.schedule.create(scheduleOptionsFor(job, firings))
}

export async function updateSchedule(temporal: Client, job: JobRow, firings: number): Promise<void> {
  const { scheduleId: _, ...wanted } = scheduleOptionsFor(job, firings)
  await temporal.schedule.getHandle(scheduleIdFor(job.id)).update(() => ({ ...wanted, state: { ...wanted.state } }))
}

export async function deleteSchedule(temporal: Client, jobId: string): Promise<void> {
  try {
    await temporal.schedule.getHandle(scheduleIdFor(jobId)).delete()
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err
  }
}

export async function describeSchedule(temporal: Client, jobId: string): Promise<ScheduleDescription | null> {
  try {
    return await temporal.schedule.getHandle(scheduleIdFor(jobId)).describe()
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null
    throw err
  }
}

/**
 * Describes a paused, never-firing schedule with this cron and time zone, then deletes it: how
 * Temporal itself reads the expression (its calendars and next firing times).
 */
async function describeCron(temporal: Client, cron: string, timezone: string): Promise<ScheduleDescription> {
  const scheduleId = `preview-${crypto.randomUUID()}`
  await temporal.schedule.create({
    scheduleId,
    spec: { cronExpressions: [cron], timezone },
    action: { type: 'startWorkflow', workflowType: 'stampedeSchedulePreview', taskQueue: 'stampede-preview', workflowId: scheduleId, args: [] },
    state: { paused: true, note: 'Stampede cron preview; deleted at once' },
  })
  try {
    return await temporal.schedule.getHandle(scheduleId).describe()
  } finally {
    await temporal.schedule.getHandle(scheduleId).delete().catch(() => {})
  }
}

/** The next firing times Temporal computes for a cron and time zone, so a preview cannot disagree with the real schedule. */
export async function previewFirings(temporal: Client, cron: string, timezone: string, count: number): Promise<Date[]> {
  return (await describeCron(temporal, cron, timezone)).info.nextActionTimes.slice(0, count)
}

/**
 * Differences between a job and its schedule, in words; empty when they agree. `expectedSpec` is
 * how Temporal compiles the job's cron (describeCron): Temporal stores calendars, not cron text.
 */
export function scheduleDrift(job: JobRow, description: ScheduleDescription, expectedSpec: ScheduleDescription['spec']): string[] {
  const drift: string[] = []
  const spec = description.spec
  const calendars = (s: ScheduleDescription['spec']) => JSON.stringify({ calendars: s.calendars ?? [], intervals: s.intervals ?? [] })
  if (calendars(spec) !== calendars(expectedSpec)) drift.push(`the schedule's times are not those of ${job.cron}`)
  // Temporal reads an empty time zone as UTC.
  if ((spec.timezone || 'UTC') !== job.timezone) drift.push(`timezone ${spec.timezone || 'UTC'} ≠ ${job.timezone}`)
  if (description.state.paused === job.enabled) drift.push(description.state.paused ? 'paused but enabled' : 'running but paused')
  if (description.policies.overlap !== overlapFor(job)) drift.push(`overlap ${description.policies.overlap} ≠ ${overlapFor(job)}`)
  const action = description.action as { workflowType?: string; taskQueue?: string }
  if (action.workflowType !== JOB_FIRING_WORKFLOW || action.taskQueue !== ORCHESTRATION_QUEUE) drift.push('action does not start jobFiring on the stampede queue')
  return drift
}

/**
 * Makes Temporal match the database: creates missing schedules, rewrites drifted ones, deletes
 * schedules of jobs that no longer exist. Returns one line per repair (empty: no drift).
 */
export async function reconcileSchedules(db: Db, temporal: Client): Promise<string[]> {
  const report: string[] = []
  const jobs = await db.job.findMany({ orderBy: { createdAt: 'asc' }, include: { _count: { select: { firings: true } } } })
  const known = new Set(jobs.map((j) => j.id))
  for (const { _count, ...job } of jobs) {
    const description = await describeSchedule(temporal, job.id)
    if (!description) {
      await createSchedule(temporal, job, _count.firings)
      report.push(`job ${job.id} (${job.name}): schedule was missing; created`)
      continue
    }
    const drift = scheduleDrift(job, description, (await describeCron(temporal, job.cron, job.timezone)).spec)
    if (drift.length > 0) {
      await updateSchedule(temporal, job, _count.firings)
      report.push(`job ${job.id} (${job.name}): schedule differed (${drift.join('; ')}); updated`)
    }
  }
  for await (const summary of temporal.schedule.list()) {
    const jobId = jobIdFromScheduleId(summary.scheduleId)
    if (jobId && !known.has(jobId)) {
      await deleteSchedule(temporal, jobId)
      report.push(`schedule ${summary.scheduleId}: its job does not exist; deleted`)
    }
  }
  return report
}
