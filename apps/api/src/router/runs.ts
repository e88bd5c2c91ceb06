import { TRPCError } from '@trpc/server'
import { WorkflowNotFoundError } from '@temporalio/client'
import { artifactUrlInput, byIdInput, isTerminal, runListInput, runStartInput, ARTIFACTS } from '@stampede/shared'
import { LOAD_TEST_RUN_WORKFLOW, ORCHESTRATION_QUEUE, workflowIdFor, type RunWorkflowInput } from '@stampede/shared/temporal'
import type { Run } from '@stampede/db'
import type { Context } from '../context.ts'
import { toRunDto } from '../runs/dto.ts'
import { publicProcedure, router } from '../trpc.ts'
import { assertRunnable, validationEnv } from '../scripts/validate.ts'
import { runEnvFor } from '../tests/variables.ts'

const notFound = (id: string) => new TRPCError({ code: 'NOT_FOUND', message: `run ${id} does not exist` })

/** Whether a queued run waits for a runner: no runner polls its location's queue (if Temporal cannot say, assume one does). */
async function waitingForRunner(ctx: Context, run: Pick<Run, 'status' | 'locationId'>): Promise<boolean> {
  if (run.status !== 'queued') return false
  return !(await ctx.presence.of(run.locationId).catch(() => ({ runnerAvailable: true }))).runnerAvailable
}

async function runDto(ctx: Context, id: string) {
  const run = await ctx.db.run.findUnique({ where: { id } })
  if (!run) throw notFound(id)
  return toRunDto(run, await waitingForRunner(ctx, run))
}

export const runsRouter = router({
  start: publicProcedure.input(runStartInput).mutation(async ({ ctx, input }) => {
    const location = ctx.config.locations.find((l) => l.id === input.location)
    if (!location) {
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: `location: "${input.location}" is not a configured location; choose one of ${ctx.config.locations.map((l) => l.id).join(', ')}`,
      })
    }
    let script: string
    let testId: string | null = null
    if (input.testId !== undefined) {
      const test = await ctx.db.test.findUnique({ where: { id: input.testId }, select: { script: true } })
      if (!test) throw new TRPCError({ code: 'NOT_FOUND', message: `testId: test ${input.testId} does not exist` })
      script = test.script
      testId = input.testId
    } else {
      script = input.script ?? ''
    }
    const { env, secretNames } = await runEnvFor(ctx.db, testId, input.env)
    // k6 loads the script with the run's variables; secrets get stand-ins, so no secret value can
    // surface in k6's error text (and from there in this API's answer).
    await assertRunnable(ctx, script, validationEnv(env, secretNames))
    const timeoutSeconds = input.timeoutSeconds ?? ctx.config.defaultRunTimeoutSeconds
    const id = crypto.randomUUID()
    const run = await ctx.db.run.create({
      data: { id, testId, script, ...(env ? { env } : {}), locationId: location.id, trigger: ctx.trigger, status: 'queued', workflowId: workflowIdFor(id), timeoutSeconds },
    })
    const args: RunWorkflowInput = { runId: id, locationId: location.id, trigger: ctx.trigger, timeoutSeconds }
    try {
      await ctx.temporal.workflow.start(LOAD_TEST_RUN_WORKFLOW, { taskQueue: ORCHESTRATION_QUEUE, workflowId: run.workflowId, args: [args] })
    } catch (err) {
      const message = `could not start the run's workflow: ${err instanceof Error ? err.message : String(err)}`
      await ctx.db.run.update({ where: { id }, data: { status: 'error', errorMessage: message, finishedAt: new Date() } })
      throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `${message}. Is Temporal reachable at ${ctx.config.temporal.address}?` })
    }
    return runDto(ctx, id)
  }),

  byId: publicProcedure.input(byIdInput).query(({ ctx, input }) => runDto(ctx, input.id)),

  list: publicProcedure.input(runListInput).query(async ({ ctx, input }) => {
    const runs = await ctx.db.run.findMany({
      where: {
        ...(input.testId ? { testId: input.testId } : {}),
        ...(input.status ? { status: input.status } : {}),
        ...(input.location ? { locationId: input.location } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: input.limit + 1,
      ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    })
    const page = runs.slice(0, input.limit)
    const items = await Promise.all(page.map(async (r) => toRunDto(r, await waitingForRunner(ctx, r))))
    return { items, nextCursor: runs.length > input.limit ? (page.at(-1)?.id ?? null) : null }
  }),

  /** Cancels a queued or running run. Cancelling a finished run returns it unchanged. */
  cancel: publicProcedure.input(byIdInput).mutation(async ({ ctx, input }) => {
    const run = await ctx.db.run.findUnique({ where: { id: input.id } })
    if (!run) throw notFound(input.id)
    if (!isTerminal(run.status)) {
      try {
        await ctx.temporal.workflow.getHandle(run.workflowId).cancel()
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err
      }
    }
    return runDto(ctx, input.id)
  }),

  artifactUrl: publicProcedure.input(artifactUrlInput).query(async ({ ctx, input }) => {
    const run = await ctx.db.run.findUnique({ where: { id: input.runId }, select: { status: true, artifacts: true } })
    if (!run) throw notFound(input.runId)
    const artifacts = (run.artifacts ?? {}) as Record<string, unknown>
    if (!artifacts[input.name]) {
      const why = isTerminal(run.status) ? 'the run did not produce it' : 'the run has not finished yet'
      throw new TRPCError({ code: 'NOT_FOUND', message: `run ${input.runId} has no ${ARTIFACTS[input.name].file}: ${why}` })
    }
    return { name: input.name, file: ARTIFACTS[input.name].file, ...ctx.artifactLinks.create(input.runId, input.name) }
  }),
})
