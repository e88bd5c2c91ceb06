import { TRPCError } from '@trpc/server'
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client'
import type { Prisma } from '@stampede/db'
import { encryptSecret, parseSecretsKey } from '@stampede/db/secrets'
import { jobBackfillInput, jobCreateInput, jobHistoryInput, jobListInput, jobPreviewInput, jobRef, jobUpdateInput, triggerOutcome, TRIGGER_OUTCOME_MESSAGES, type NotifyOn } from '@stampede/shared'
import { scheduleIdFor } from '@stampede/shared/temporal'
import { audit } from '../auth/audit.ts'
import { keysetAfter } from './keyset.ts'
import { randomSecret } from '../auth/secrets.ts'
import type { Context } from '../context.ts'
import { intervalProblem } from '../jobs/interval.ts'
import { createSchedule, deleteSchedule, describeSchedule, overlapFor, readCron, scheduleError, updateSchedule, type JobRow } from '../jobs/schedules.ts'
import { projectProcedure, router, signedInProcedure } from '../trpc.ts'
import { publicErrorMessage } from '../faults.ts'

const jobInclude = { tests: { orderBy: { position: 'asc' }, include: { test: { select: { id: true, name: true } } } } } as const
type JobWithTests = Prisma.JobGetPayload<{ include: typeof jobInclude }>

/** gRPC INVALID_ARGUMENT anywhere in the cause chain: Temporal refused what we sent. */
function isInvalidArgument(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    if ((e as { code?: unknown }).code === 3) return true
  }
  return false
}

async function withTemporal<T>(_ctx: Context, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof TRPCError) throw err
    // The client compiles cron and time zone itself (TypeError); the server answers INVALID_ARGUMENT.
    if (err instanceof TypeError || isInvalidArgument(err)) throw new TRPCError({ code: 'BAD_REQUEST', message: scheduleError(err) })
    // trpc.ts answers an outage (Temporal's, or the database's in what `fn` reads) SERVICE_UNAVAILABLE
    // naming the part, found through this cause; anything else with an error id.
    throw new Error(`could not ${what} the job's Temporal schedule`, { cause: err })
  }
}

async function schedule(ctx: Context, jobId: string) {
  try {
    const d = await describeSchedule(ctx.temporal, jobId)
    if (!d) return { state: 'missing' as const, error: 'the Temporal schedule is missing; restarting the API repairs it' }
    return {
      state: d.state.paused ? ('paused' as const) : ('active' as const),
      nextFirings: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
      firings: d.info.numActionsTaken,
      skippedOverlap: d.info.numActionsSkippedOverlap,
      running: d.info.runningActions.length,
      remainingFirings: d.state.remainingActions ?? null,
    }
  } catch (err) {
    return { state: 'unknown' as const, error: publicErrorMessage(err, 'job schedule') }
  }
}

interface LastFiring {
  id: string
  scheduledAt: Date
  finishedAt: Date | null
  status: string
  reason: string | null
}

/**
 * Each job's last finished firing, in one query for any number of jobs: DISTINCT ON walks the
 * (job_id, scheduled_at) index once instead of one query per job.
 */
async function lastFirings(ctx: Context, jobIds: string[]): Promise<Map<string, LastFiring>> {
  if (jobIds.length === 0) return new Map()
  const rows = await ctx.db.$queryRaw<(LastFiring & { jobId: string })[]>`
    SELECT DISTINCT ON (job_id) id::text AS "id", job_id::text AS "jobId", scheduled_at AS "scheduledAt", finished_at AS "finishedAt", status, reason
    FROM job_firings
    WHERE job_id = ANY(${jobIds}::uuid[]) AND finished_at IS NOT NULL
    ORDER BY job_id, scheduled_at DESC`
  return new Map(rows.map((r) => [r.jobId, r]))
}

/** A job as the API returns it; `last` is its last finished firing when the caller already has it. */
async function toJobDto(ctx: Context, job: JobWithTests, last?: LastFiring | null) {
  if (last === undefined) last = (await lastFirings(ctx, [job.id])).get(job.id) ?? null
  return {
    id: job.id,
    projectId: job.projectId,
    name: job.name,
    description: job.description,
    tests: job.tests.map((t) => ({ position: t.position, testId: t.testId, name: t.test.name })),
    location: job.locationId,
    cron: job.cron,
    timezone: job.timezone,
    overlapPolicy: job.overlapPolicy,
    enabled: job.enabled,
    maxFirings: job.maxFirings,
    endAt: job.endAt?.toISOString() ?? null,
    webhookUrl: job.webhookUrl,
    notifyOn: job.notifyOn.split(',') as NotifyOn[],
    /** The firings' runs keep k6's per-sample stream: true or false for every run, null for each test's own setting. */
    rawSamples: job.rawSamples,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    lastFiring: last ? { id: last.id, scheduledAt: last.scheduledAt.toISOString(), finishedAt: last.finishedAt?.toISOString() ?? null, status: last.status, reason: last.reason } : null,
    schedule: await schedule(ctx, job.id),
  }
}

async function checkTests(ctx: Context, projectId: string, testIds: string[]): Promise<void> {
  const found = new Set((await ctx.db.test.findMany({ where: { id: { in: testIds }, projectId }, select: { id: true } })).map((t) => t.id))
  const i = testIds.findIndex((id) => !found.has(id))
  if (i >= 0) throw new TRPCError({ code: 'BAD_REQUEST', message: `testIds.${i}: test ${testIds[i]} does not exist in this project` })
}

function checkLocation(ctx: Context, location: string): void {
  if (!ctx.config.locations.some((l) => l.id === location)) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `location: "${location}" is not a configured location; choose one of ${ctx.config.locations.map((l) => l.id).join(', ')}` })
  }
}

/** A new webhook signing secret: returned once, stored encrypted with SECRETS_KEY. */
function newWebhookSecret(ctx: Context): { secret: string; ciphertext: string } {
  if (!ctx.config.secretsKey) throw new TRPCError({ code: 'BAD_REQUEST', message: 'webhookUrl: this API has no SECRETS_KEY to keep the webhook signing secret; set SECRETS_KEY on the API and runners' })
  const secret = `whsec_${randomSecret()}`
  return { secret, ciphertext: encryptSecret(parseSecretsKey(ctx.config.secretsKey), secret) }
}

const firingCount = (ctx: Context, jobId: string) => ctx.db.jobFiring.count({ where: { jobId } })

/** Temporal's reading of a cron: its next firings, and why it fires too often for JOB_MIN_INTERVAL_SECONDS (null: it does not). */
async function cronReading(ctx: Context, cron: string, timezone: string) {
  const minimum = ctx.config.jobMinIntervalSeconds
  const reading = await withTemporal(ctx, 'read', () => readCron(ctx.temporal, cron, timezone, minimum))
  return { ...reading, minimum, tooFrequent: intervalProblem(cron, timezone, reading.closest, minimum) }
}

/** Refuses a cron whose firings come closer together than JOB_MIN_INTERVAL_SECONDS. */
async function checkInterval(ctx: Context, cron: string, timezone: string): Promise<void> {
  const { tooFrequent } = await cronReading(ctx, cron, timezone)
  if (tooFrequent) throw new TRPCError({ code: 'BAD_REQUEST', message: tooFrequent })
}

async function loadJob(ctx: Context, id: string): Promise<JobWithTests> {
  return ctx.db.job.findUniqueOrThrow({ where: { id }, include: jobInclude })
}

/** Cancels firings in progress (deleting a job stops what it started). */
async function cancelRunning(temporal: Client, jobId: string): Promise<void> {
  const d = await describeSchedule(temporal, jobId)
  for (const a of d?.info.runningActions ?? []) await temporal.workflow.getHandle(a.workflow.workflowId, a.workflow.firstExecutionRunId).cancel().catch(() => {})
}

export const jobsRouter = router({
  /**
   * Temporal's own next firing times for a cron and time zone, before saving, and whether its
   * firings come closer together than JOB_MIN_INTERVAL_SECONDS (`tooFrequent`: the message
   * jobs.create would refuse it with).
   */
  preview: signedInProcedure.input(jobPreviewInput).query(async ({ ctx, input }) => {
    const { nextFirings, closest, minimum, tooFrequent } = await cronReading(ctx, input.cron, input.timezone)
    return {
      cron: input.cron,
      timezone: input.timezone,
      nextFirings: nextFirings.slice(0, input.count).map((t) => t.toISOString()),
      /** Seconds between the two closest firings (null: it fires at most once). */
      closestIntervalSeconds: closest?.seconds ?? null,
      minIntervalSeconds: minimum,
      tooFrequent,
    }
  }),

  create: projectProcedure('write').input(jobCreateInput).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    checkLocation(ctx, input.location)
    await checkTests(ctx, projectId, input.testIds)
    await checkInterval(ctx, input.cron, input.timezone)
    const webhook = input.webhookUrl ? newWebhookSecret(ctx) : null
    const job = await ctx.db.$transaction(async (tx) => {
      const created = await tx.job.create({
        data: {
          projectId,
          name: input.name,
          description: input.description ?? '',
          locationId: input.location,
          cron: input.cron,
          timezone: input.timezone,
          overlapPolicy: input.overlapPolicy,
          enabled: input.enabled,
          maxFirings: input.maxFirings ?? null,
          endAt: input.endAt ? new Date(input.endAt) : null,
          webhookUrl: input.webhookUrl ?? null,
          notifyOn: (input.notifyOn ?? ['failure', 'recovery']).join(','),
          webhookSecret: webhook?.ciphertext ?? null,
          rawSamples: input.rawSamples ?? null,
          tests: { create: input.testIds.map((testId, position) => ({ testId, position })) },
        },
      })
      // The schedule is created inside the transaction: if Temporal refuses, no row remains.
      await withTemporal(ctx, 'create', () => createSchedule(ctx.temporal, created))
      return created
    })
    await audit(ctx.db, ctx.actor, projectId, { action: 'job.create', targetType: 'job', targetId: job.id, details: { name: job.name, cron: job.cron, timezone: job.timezone, rawSamples: job.rawSamples } })
    return { ...(await toJobDto(ctx, await loadJob(ctx, job.id))), webhookSecret: webhook?.secret ?? null }
  }),

  update: projectProcedure('write').input(jobUpdateInput).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.job(input.id)
    if (input.location !== undefined) checkLocation(ctx, input.location)
    if (input.testIds) await checkTests(ctx, projectId, input.testIds)
    const current = await ctx.db.job.findUniqueOrThrow({ where: { id: input.id } })
    // A job saved under a lower minimum keeps its schedule until its cron or time zone changes.
    if (input.cron !== undefined || input.timezone !== undefined) await checkInterval(ctx, input.cron ?? current.cron, input.timezone ?? current.timezone)
    const url = input.webhookUrl === undefined ? current.webhookUrl : input.webhookUrl
    const webhook = url && (input.rotateWebhookSecret || !current.webhookSecret) ? newWebhookSecret(ctx) : null
    const data: Prisma.JobUpdateInput = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.location !== undefined ? { location: { connect: { id: input.location } } } : {}),
      ...(input.cron !== undefined ? { cron: input.cron } : {}),
      ...(input.timezone !== undefined ? { timezone: input.timezone } : {}),
      ...(input.overlapPolicy !== undefined ? { overlapPolicy: input.overlapPolicy } : {}),
      ...(input.maxFirings !== undefined ? { maxFirings: input.maxFirings } : {}),
      ...(input.endAt !== undefined ? { endAt: input.endAt ? new Date(input.endAt) : null } : {}),
      ...(input.webhookUrl !== undefined ? { webhookUrl: input.webhookUrl } : {}),
      ...(input.notifyOn !== undefined ? { notifyOn: input.notifyOn.join(',') } : {}),
      ...(input.rawSamples !== undefined ? { rawSamples: input.rawSamples } : {}),
      ...(webhook ? { webhookSecret: webhook.ciphertext } : url ? {} : { webhookSecret: null }),
    }
    await ctx.db.$transaction(async (tx) => {
      const job = await tx.job.update({ where: { id: input.id }, data })
      if (input.testIds) {
        await tx.jobTest.deleteMany({ where: { jobId: job.id } })
        await tx.jobTest.createMany({ data: input.testIds.map((testId, position) => ({ jobId: job.id, testId, position })) })
      }
      await withTemporal(ctx, 'update', async () => updateSchedule(ctx.temporal, job as JobRow, await firingCount(ctx, job.id)))
    })
    const { id: _, rotateWebhookSecret: __, ...changed } = input
    await audit(ctx.db, ctx.actor, projectId, { action: 'job.update', targetType: 'job', targetId: input.id, details: { fields: Object.keys(changed), rotatedWebhookSecret: Boolean(webhook) } })
    return { ...(await toJobDto(ctx, await loadJob(ctx, input.id))), webhookSecret: webhook?.secret ?? null }
  }),

  byId: projectProcedure('read').input(jobRef).query(async ({ ctx, input }) => {
    await ctx.access.job(input.id)
    const job = await loadJob(ctx, input.id)
    const trend = await ctx.db.run.findMany({
      where: { jobId: job.id },
      orderBy: { createdAt: 'desc' },
      take: 100,
      select: { id: true, testId: true, status: true, createdAt: true, httpReqDurationP95: true, httpReqRate: true },
    })
    return {
      ...(await toJobDto(ctx, job)),
      /** Oldest first: the job's runs with their p95 and request rate. */
      trend: trend.reverse().map((r) => ({ runId: r.id, testId: r.testId, status: r.status, createdAt: r.createdAt.toISOString(), p95: r.httpReqDurationP95, requestRate: r.httpReqRate })),
    }
  }),

  list: projectProcedure('read').input(jobListInput).query(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    const jobs = await ctx.db.job.findMany({ where: { projectId }, orderBy: { name: 'asc' }, include: jobInclude })
    const last = await lastFirings(ctx, jobs.map((j) => j.id))
    return Promise.all(jobs.map((j) => toJobDto(ctx, j, last.get(j.id) ?? null)))
  }),

  /** Deletes the job and its schedule, cancelling a firing in progress. Its runs are kept. */
  delete: projectProcedure('write').input(jobRef).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.job(input.id)
    await withTemporal(ctx, 'delete', async () => {
      await cancelRunning(ctx.temporal, input.id)
      await deleteSchedule(ctx.temporal, input.id)
    })
    await ctx.db.job.delete({ where: { id: input.id } })
    await audit(ctx.db, ctx.actor, projectId, { action: 'job.delete', targetType: 'job', targetId: input.id })
    return { id: input.id, deleted: true }
  }),

  pause: projectProcedure('write').input(jobRef).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.job(input.id)
    await ctx.db.$transaction(async (tx) => {
      await tx.job.update({ where: { id: input.id }, data: { enabled: false } })
      await withTemporal(ctx, 'pause', () => ctx.temporal.schedule.getHandle(scheduleIdFor(input.id)).pause(`paused by ${ctx.actor.kind === 'user' ? ctx.actor.email : `token ${ctx.actor.name}`}`))
    })
    await audit(ctx.db, ctx.actor, projectId, { action: 'job.pause', targetType: 'job', targetId: input.id })
    return toJobDto(ctx, await loadJob(ctx, input.id))
  }),

  resume: projectProcedure('write').input(jobRef).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.job(input.id)
    await ctx.db.$transaction(async (tx) => {
      await tx.job.update({ where: { id: input.id }, data: { enabled: true } })
      await withTemporal(ctx, 'resume', () => ctx.temporal.schedule.getHandle(scheduleIdFor(input.id)).unpause('resumed'))
    })
    await audit(ctx.db, ctx.actor, projectId, { action: 'job.resume', targetType: 'job', targetId: input.id })
    return toJobDto(ctx, await loadJob(ctx, input.id))
  }),

  /**
   * Fires the job now, under its overlap policy. `outcome` says what Temporal does with the
   * trigger, judged from the firings running just before it: started, queued behind the running
   * one, started after cancelling it, or skipped.
   */
  trigger: projectProcedure('write').input(jobRef).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.job(input.id)
    const job = await ctx.db.job.findUniqueOrThrow({ where: { id: input.id } })
    const outcome = await withTemporal(ctx, 'trigger', async () => {
      const handle = ctx.temporal.schedule.getHandle(scheduleIdFor(input.id))
      const running = (await handle.describe()).info.runningActions.length
      // Triggered even when it will be skipped, so that Temporal counts the skip.
      await handle.trigger(overlapFor(job))
      return triggerOutcome(job.overlapPolicy, running)
    })
    await audit(ctx.db, ctx.actor, projectId, { action: 'job.trigger', targetType: 'job', targetId: input.id, details: { outcome } })
    return { id: input.id, triggered: outcome !== 'skipped', outcome, message: TRIGGER_OUTCOME_MESSAGES[outcome] }
  }),

  /** Fires the job once for every time its schedule matched in [from, to), one after another. */
  backfill: projectProcedure('write').input(jobBackfillInput).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.job(input.id)
    await withTemporal(ctx, 'backfill', () =>
      ctx.temporal.schedule.getHandle(scheduleIdFor(input.id)).backfill({ start: new Date(input.from), end: new Date(input.to), overlap: ScheduleOverlapPolicy.BUFFER_ALL }),
    )
    await audit(ctx.db, ctx.actor, projectId, { action: 'job.backfill', targetType: 'job', targetId: input.id, details: { from: input.from, to: input.to } })
    return { id: input.id, from: input.from, to: input.to }
  }),

  /** Firings, newest first, each with its runs. */
  history: projectProcedure('read').input(jobHistoryInput).query(async ({ ctx, input }) => {
    await ctx.access.job(input.id)
    let where: Prisma.JobFiringWhereInput = { jobId: input.id }
    if (input.cursor) {
      // Keyset paging: the (job_id, scheduled_at, id) index starts at the cursor's firing.
      const cursor = await ctx.db.jobFiring.findUnique({ where: { id: input.cursor }, select: { scheduledAt: true } })
      if (!cursor) return { items: [], nextCursor: null }
      where = { ...where, ...keysetAfter('scheduledAt', { at: cursor.scheduledAt, id: input.cursor }) }
    }
    const rows = await ctx.db.jobFiring.findMany({
      where,
      orderBy: [{ scheduledAt: 'desc' }, { id: 'desc' }],
      take: input.limit + 1,
      include: { runs: { orderBy: { createdAt: 'asc' }, select: { id: true, testId: true, status: true, httpReqDurationP95: true, httpReqRate: true, durationMs: true } } },
    })
    const page = rows.slice(0, input.limit)
    return {
      items: page.map((f) => ({
        id: f.id,
        scheduledAt: f.scheduledAt.toISOString(),
        startedAt: f.startedAt.toISOString(),
        finishedAt: f.finishedAt?.toISOString() ?? null,
        status: f.status,
        /** Why a test was not started (a skipped firing). */
        reason: f.reason,
        runs: f.runs.map((r) => ({ id: r.id, testId: r.testId, status: r.status, p95: r.httpReqDurationP95, requestRate: r.httpReqRate, durationMs: r.durationMs })),
      })),
      nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
    }
  }),

  /** The webhook delivery log: every attempt with its answer. */
  deliveries: projectProcedure('read').input(jobRef).query(async ({ ctx, input }) => {
    await ctx.access.job(input.id)
    const rows = await ctx.db.webhookDelivery.findMany({ where: { jobId: input.id }, orderBy: { at: 'desc' }, take: 100 })
    return rows.map((d) => ({ id: d.id, firingId: d.firingId, event: d.event, attempt: d.attempt, url: d.url, statusCode: d.statusCode, ok: d.ok, response: d.response, durationMs: d.durationMs, at: d.at.toISOString() }))
  }),
})
