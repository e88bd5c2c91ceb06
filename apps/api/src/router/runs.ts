import { TRPCError } from '@trpc/server'
import { WorkflowNotFoundError } from '@temporalio/client'
import { artifactUrlInput, byIdInput, isTerminal, optionalProjectRef, runFilesInput, runListInput, runRerunInput, runStartInput, ARTIFACTS } from '@stampede/shared'
import { LOAD_TEST_RUN_WORKFLOW, ORCHESTRATION_QUEUE, type RunWorkflowInput } from '@stampede/shared/temporal'
import type { Run } from '@stampede/db'
import { createRun, failedToStart, type CreateRunRequest, type RunRefusal } from '@stampede/runs'
import type { Context } from '../context.ts'
import type { Actor } from '../auth/actor.ts'
import { toRunDto } from '../runs/dto.ts'
import { audit } from '../auth/audit.ts'
import { projectProcedure, router } from '../trpc.ts'
import { apiValidator } from '../scripts/validate.ts'
import { blobReader, resolveArchive, resolveFileRefs } from '../files/store.ts'
import { metricsProcedure } from './metrics.ts'

/** A gate's refusal as the API answers it: the gate's own message, under the code it always had. */
function refusalError(refusal: RunRefusal): TRPCError {
  const code = refusal.gate === 'test' ? 'NOT_FOUND' : refusal.gate === 'quota' ? 'TOO_MANY_REQUESTS' : 'BAD_REQUEST'
  return new TRPCError({ code, message: refusal.message })
}

const notFound = (id: string) => new TRPCError({ code: 'NOT_FOUND', message: `run ${id} does not exist` })

/** Whether a queued run waits for a runner (see RunnerPresence.waitingFor). */
async function waitingForRunner(ctx: Context, run: Pick<Run, 'status' | 'locationId'>): Promise<boolean> {
  if (run.status !== 'queued') return false
  return ctx.presence.waitingFor(run.locationId)
}

async function runDto(ctx: Context, id: string) {
  const run = await ctx.db.run.findUnique({ where: { id } })
  if (!run) throw notFound(id)
  return toRunDto(run, await waitingForRunner(ctx, run))
}

/** Creates a run through every gate (createRun) and starts its workflow. */
async function startRun(ctx: Context & { actor: Actor }, projectId: string, timeout: number | undefined, request: Omit<CreateRunRequest, 'projectId' | 'trigger' | 'timeoutSeconds'>) {
  const timeoutSeconds = timeout ?? ctx.config.defaultRunTimeoutSeconds
  const trigger = ctx.actor.kind === 'user' ? 'manual' : 'api'
  const created = await createRun(
    { db: ctx.db, locations: ctx.config.locations, validation: { validate: apiValidator(ctx), scriptLimits: ctx.config.scriptLimits }, readFiles: (project) => blobReader(ctx, project) },
    { ...request, projectId, trigger, timeoutSeconds },
  )
  if (!created.ok) throw refusalError(created.refusal)
  const { run } = created
  const { id } = run
  await audit(ctx.db, ctx.actor, projectId, { action: 'run.start', targetType: 'run', targetId: id, details: { testId: run.testId, location: run.locationId, rawSamples: run.rawSamples, ...(request.rerunOf ? { rerunOf: request.rerunOf } : {}) } })
  const args: RunWorkflowInput = { runId: id, locationId: run.locationId, trigger, timeoutSeconds, durability: ctx.config.durability }
  try {
    await ctx.temporal.workflow.start(LOAD_TEST_RUN_WORKFLOW, { taskQueue: ORCHESTRATION_QUEUE, workflowId: run.workflowId, args: [args] })
  } catch (err) {
    // The full cause goes to the API's log; the caller and the run are told plainly.
    console.error(`[api] run ${id}: could not start its workflow:`, err)
    const message = 'the run could not be started: Temporal (the orchestrator) did not answer; nothing was sent to the target. Try again in a moment.'
    await failedToStart(ctx.db, id, message)
    throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message })
  }
  return runDto(ctx, id)
}

export const runsRouter = router({
  start: projectProcedure('write').input(runStartInput).mutation(async ({ ctx, input }) => {
    // Who may start runs where is the API's to decide; every gate a run passes is createRun's.
    let projectId: string
    if (input.testId !== undefined) {
      const testNotFound = new TRPCError({ code: 'NOT_FOUND', message: `testId: test ${input.testId} does not exist` })
      projectId = await ctx.access.test(input.testId).catch((err: unknown) => {
        throw err instanceof TRPCError && err.code === 'NOT_FOUND' ? testNotFound : err
      })
      if (input.projectId !== undefined && input.projectId !== projectId) throw testNotFound
    } else {
      projectId = await ctx.access.project(input.projectId)
    }
    // An unsaved script's files, or an unsaved archive (its entry script kept as the run's script).
    let unsaved: Pick<CreateRunRequest, 'script' | 'files' | 'archive'> = {}
    if (input.archive !== undefined) {
      const { archive, summary } = await resolveArchive(ctx, projectId, input.archive)
      unsaved = { script: summary.entry.source, archive }
    } else if (input.script !== undefined) {
      unsaved = { script: input.script, files: await resolveFileRefs(ctx, projectId, input.files ?? []) }
    }
    return startRun(ctx, projectId, input.timeoutSeconds, {
      location: input.location,
      ...(input.testId !== undefined ? { testId: input.testId } : unsaved),
      ...(input.env ? { env: input.env } : {}),
      // Not given: the saved test's setting (createRun), else off.
      ...(input.rawSamples !== undefined ? { rawSamples: input.rawSamples } : {}),
    })
  }),

  /** A new run of exactly what an earlier run ran: its script, files or archive and variables (its test's secrets, while the test exists). */
  rerun: projectProcedure('write').input(runRerunInput).mutation(async ({ ctx, input }) => {
    const earlier = await ctx.access.run(input.id)
    return startRun(ctx, earlier.projectId, input.timeoutSeconds ?? earlier.timeoutSeconds, { location: input.location ?? earlier.locationId, rerunOf: earlier.id })
  }),

  /** The files a run ran with (its own snapshot, whatever its test holds now), or its archive. */
  files: projectProcedure('read').input(runFilesInput).query(async ({ ctx, input }) => {
    const run = await ctx.access.run(input.runId)
    const files = await ctx.db.runFile.findMany({ where: { runId: run.id }, select: { path: true, sha256: true, size: true }, orderBy: { path: 'asc' } })
    return { files, archive: run.archiveSha256 !== null ? { sha256: run.archiveSha256, size: run.archiveSize ?? 0 } : null }
  }),

  byId: projectProcedure('read').input(byIdInput).query(async ({ ctx, input }) => {
    const run = await ctx.access.run(input.id)
    return toRunDto(run, await waitingForRunner(ctx, run))
  }),

  list: projectProcedure('read').input(runListInput).query(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    // One statement: the filters, the keyset bound after the cursor's run (an unknown cursor ends
    // the list) and only the DTO's columns, on the pg pool rather than through Prisma (see
    // runs/list.ts); a first page kept since its project's runs last changed is served from
    // memory (runs/list-cache.ts).
    const { items: runs, more } = await ctx.runLists.page(ctx.db, { projectId, testId: input.testId, status: input.status, location: input.location, cursor: input.cursor }, input.limit)
    // Runner presence only for queued runs, asked once per location on the page.
    const waiting = new Map<string, Promise<boolean>>()
    for (const r of runs) if (r.status === 'queued' && !waiting.has(r.location)) waiting.set(r.location, ctx.presence.waitingFor(r.location))
    const waitingIn = new Map<string, boolean>()
    for (const [location, w] of waiting) waitingIn.set(location, await w)
    const items = waitingIn.size === 0 ? runs : runs.map((r) => (r.status === 'queued' && waitingIn.get(r.location) ? { ...r, waitingForRunner: true } : r))
    return { items, nextCursor: more ? (items.at(-1)?.id ?? null) : null }
  }),

  /**
   * The project's queued and running runs per location, counted exactly: every configured
   * location (zeros included), then any location that still has runs but is no longer configured.
   */
  inFlight: projectProcedure('read').input(optionalProjectRef).query(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    const groups = await ctx.db.run.groupBy({
      by: ['locationId', 'status'],
      where: { projectId, status: { in: ['queued', 'running'] } },
      _count: { _all: true },
    })
    const counts = new Map(ctx.config.locations.map((l) => [l.id, { location: l.id, queued: 0, running: 0 }]))
    for (const g of groups) {
      const c = counts.get(g.locationId) ?? { location: g.locationId, queued: 0, running: 0 }
      if (g.status === 'queued' || g.status === 'running') c[g.status] = g._count._all
      counts.set(g.locationId, c)
    }
    return [...counts.values()]
  }),

  /** Cancels a queued or running run. Cancelling a finished run returns it unchanged. */
  cancel: projectProcedure('write').input(byIdInput).mutation(async ({ ctx, input }) => {
    const run = await ctx.access.run(input.id)
    if (!isTerminal(run.status)) {
      await audit(ctx.db, ctx.actor, run.projectId, { action: 'run.cancel', targetType: 'run', targetId: run.id })
      try {
        await ctx.temporal.workflow.getHandle(run.workflowId).cancel()
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err
      }
    }
    return runDto(ctx, input.id)
  }),

  artifactUrl: projectProcedure('read').input(artifactUrlInput).query(async ({ ctx, input }) => {
    const run = await ctx.access.run(input.runId)
    const artifacts = (run.artifacts ?? {}) as Record<string, unknown>
    if (!artifacts[input.name]) {
      const why = isTerminal(run.status) ? 'the run did not produce it' : 'the run has not finished yet'
      throw new TRPCError({ code: 'NOT_FOUND', message: `run ${input.runId} has no ${ARTIFACTS[input.name].file}: ${why}` })
    }
    return { name: input.name, file: ARTIFACTS[input.name].file, ...ctx.artifactLinks.create(input.runId, input.name) }
  }),

  /** A finished run's per-second series from its metric frames (see router/metrics.ts). */
  metrics: metricsProcedure,
})
