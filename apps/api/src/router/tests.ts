import { TRPCError } from '@trpc/server'
import { byIdInput, testCreateInput, testUpdateInput } from '@stampede/shared'
import type { Test, Run } from '@stampede/db'
import { publicProcedure, router } from '../trpc.ts'
import { assertRunnable, validationEnv } from '../scripts/validate.ts'
import { toVariablesDto, updateVariables, variablesForCreate, variablesSelect, type VariableRow, type VariablesDto } from '../tests/variables.ts'

export interface TestDto extends VariablesDto {
  id: string
  name: string
  description: string
  script: string
  createdAt: string
  updatedAt: string
  lastRun: { id: string; status: Run['status']; createdAt: string; p95: number | null } | null
}

const toTestDto = (test: Test & { runs?: Run[]; variables?: VariableRow[] }): TestDto => {
  const last = test.runs?.[0]
  return {
    id: test.id,
    name: test.name,
    description: test.description,
    script: test.script,
    createdAt: test.createdAt.toISOString(),
    updatedAt: test.updatedAt.toISOString(),
    lastRun: last ? { id: last.id, status: last.status, createdAt: last.createdAt.toISOString(), p95: last.httpReqDurationP95 } : null,
    ...toVariablesDto(test.variables),
  }
}

const namedValues = (list: { name: string; value: string }[] = []) => Object.fromEntries(list.map((v) => [v.name, v.value]))

const notFound = (id: string) => new TRPCError({ code: 'NOT_FOUND', message: `test ${id} does not exist` })
const lastRun = { runs: { orderBy: { createdAt: 'desc' as const }, take: 1 }, variables: variablesSelect }

export const testsRouter = router({
  create: publicProcedure.input(testCreateInput).mutation(async ({ ctx, input }) => {
    await assertRunnable(ctx, input.script, validationEnv(namedValues(input.variables), (input.secrets ?? []).map((s) => s.name)))
    const variables = variablesForCreate(input, ctx.config.secretsKey)
    const test = await ctx.db.test.create({
      data: { name: input.name, description: input.description ?? '', script: input.script, variables: { create: variables } },
      include: { variables: variablesSelect },
    })
    return toTestDto(test)
  }),
  update: publicProcedure.input(testUpdateInput).mutation(async ({ ctx, input }) => {
    if (input.script !== undefined) {
      const stored = await ctx.db.testVariable.findMany({ where: { testId: input.id }, select: { name: true, secret: true, value: true } })
      const plain = input.variables ?? stored.filter((v) => !v.secret).map((v) => ({ name: v.name, value: v.value ?? '' }))
      const kept = stored.filter((v) => v.secret && !input.removeSecrets?.includes(v.name)).map((v) => v.name)
      await assertRunnable(ctx, input.script, validationEnv(namedValues(plain), [...kept, ...(input.secrets ?? []).map((s) => s.name)]))
    }
    const { id, variables, secrets, removeSecrets, ...data } = input
    await ctx.db.$transaction(async (tx) => {
      const updated = await tx.test.updateMany({ where: { id }, data })
      if (updated.count === 0) throw notFound(id)
      await updateVariables(tx, id, { variables, secrets, removeSecrets }, ctx.config.secretsKey)
    })
    return toTestDto(await ctx.db.test.findUniqueOrThrow({ where: { id }, include: lastRun }))
  }),
  byId: publicProcedure.input(byIdInput).query(async ({ ctx, input }) => {
    const test = await ctx.db.test.findUnique({ where: { id: input.id }, include: lastRun })
    if (!test) throw notFound(input.id)
    return toTestDto(test)
  }),
  list: publicProcedure.query(async ({ ctx }) => {
    const tests = await ctx.db.test.findMany({ orderBy: { updatedAt: 'desc' }, include: lastRun })
    return tests.map(toTestDto)
  }),
  /** Deletes the test; its runs (and their artifacts) are kept and keep their script snapshot. */
  delete: publicProcedure.input(byIdInput).mutation(async ({ ctx, input }) => {
    const deleted = await ctx.db.test.deleteMany({ where: { id: input.id } })
    if (deleted.count === 0) throw notFound(input.id)
    return { id: input.id, deleted: true }
  }),
})
