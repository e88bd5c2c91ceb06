// Jobs as Temporal Schedules. Temporal is the source of firing truth: every job is mirrored as
// the schedule `job-<jobId>` whose action starts `jobFiring`. Every change to a job goes through
// here, and reconcile() repairs and reports drift between the database and Temporal.
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions, type ScheduleDescription } from '@temporalio/client'
import { msNumberToTs, tsToDate } from '@temporalio/common/lib/time.js'
import type { Db, Prisma } from '@stampede/db'
import { JOB_FIRING_WORKFLOW, ORCHESTRATION_QUEUE, jobIdFromScheduleId, scheduleIdFor, type JobFiringInput } from '@stampede/shared/temporal'
import { closestFirings, firingWindows, type ClosestFirings } from './interval.ts'

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
 * Creates a paused, never-firing schedule with this cron and time zone, lets `read` ask Temporal
 * about it, then deletes it: how Temporal itself reads the expression (its calendars and firing
 * times).
 */
async function withCronSchedule<T>(temporal: Client, cron: string, timezone: string, read: (scheduleId: string) => Promise<T>): Promise<T> {
  const scheduleId = `preview-${crypto.randomUUID()}`
  await temporal.schedule.create({
    scheduleId,
    spec: { cronExpressions: [cron], timezone },
    action: { type: 'startWorkflow', workflowType: 'stampedeSchedulePreview', taskQueue: 'stampede-preview', workflowId: scheduleId, args: [] },
    state: { paused: true, note: 'Stampede cron preview; deleted at once' },
  })
  try {
    return await read(scheduleId)
  } finally {
    await temporal.schedule.getHandle(scheduleId).delete().catch(() => {})
  }
}

async function describeCron(temporal: Client, cron: string, timezone: string): Promise<ScheduleDescription> {
  return withCronSchedule(temporal, cron, timezone, (scheduleId) => temporal.schedule.getHandle(scheduleId).describe())
}

/** Every firing time Temporal lists for the schedule in (start, end], up to its limit of 1000. */
async function matchingTimes(temporal: Client, scheduleId: string, start: Date, end: Date): Promise<Date[]> {
  const res = await temporal.workflowService.listScheduleMatchingTimes({ namespace: temporal.options.namespace, scheduleId, startTime: msNumberToTs(start.getTime()), endTime: msNumberToTs(end.getTime()) })
  return (res.startTime ?? []).map((t) => tsToDate(t))
}

export interface CronReading {
  /** The next firing times, as the schedule will have them. */
  nextFirings: Date[]
  /** The two firings closest together among those Temporal lists (see jobs/interval.ts), or null when it fires at most once. */
  closest: ClosestFirings | null
}

/**
 * How Temporal reads a cron in a time zone: its next firing times, so a preview cannot disagree
 * with the real schedule, and its closest two firings, for JOB_MIN_INTERVAL_SECONDS.
 */
export async function readCron(temporal: Client, cron: string, timezone: string, minIntervalSeconds: number, now = new Date()): Promise<CronReading> {
  return withCronSchedule(temporal, cron, timezone, async (scheduleId) => {
    const description = await temporal.schedule.getHandle(scheduleId).describe()
    const runs = await Promise.all(firingWindows(timezone, now, minIntervalSeconds).map((w) => matchingTimes(temporal, scheduleId, w.start, w.end)))
    return { nextFirings: description.info.nextActionTimes, closest: closestFirings(runs) }
  })
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
