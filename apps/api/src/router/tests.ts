import { TRPCError } from '@trpc/server'
import { byIdInput, testCreateInput, testListInput, testUpdateInput } from '@stampede/shared'
import type { Test, Run } from '@stampede/db'
import type { Context } from '../context.ts'
import { audit } from '../auth/audit.ts'
import { projectProcedure, router } from '../trpc.ts'
import { assertRunnable, projectLimits, validationEnv } from '../scripts/validate.ts'
import { blobReader, resolveArchive, resolveFileRefs } from '../files/store.ts'
import type { StoredArchive, StoredFile } from '@stampede/shared/files'
import { toVariablesDto, updateVariables, variablesForCreate, variablesSelect, type VariableRow, type VariablesDto } from '../load-tests/variables.ts'

export interface TestDto extends VariablesDto {
  id: string
  projectId: string
  name: string
  description: string
  /** The entry script (for a test that runs an archive: the archive's entry script, for display). */
  script: string
  /** The test's files at their paths relative to the script, by path. */
  files: StoredFile[]
  /** The k6 archive the test runs instead of its script and files. */
  archive: StoredArchive | null
  /** Its runs keep k6's per-sample stream (the `samples` artifact) unless a run says otherwise. */
  rawSamples: boolean
  createdAt: string
  updatedAt: string
  lastRun: { id: string; status: Run['status']; createdAt: string; p95: number | null } | null
}

interface LastRun {
  id: string
  status: Run['status']
  createdAt: Date
  p95: number | null
}

/**
 * Each test's newest run, in one query for any number of tests: per test, the first entry of the
 * runs (test_id, created_at, id) index read backwards. (Prisma's `include: { runs: { take: 1 } }`
 * for several tests reads every run of every test, whole rows, and keeps the first of each.)
 */
async function lastRuns(ctx: Context, testIds: string[]): Promise<Map<string, LastRun>> {
  if (testIds.length === 0) return new Map()
  const rows = await ctx.db.$queryRaw<(LastRun & { testId: string })[]>`
    SELECT t.id::text AS "testId", r.id::text AS "id", r.status::text AS "status", r.created_at AS "createdAt", r.http_req_duration_p95 AS "p95"
    FROM unnest(${testIds}::uuid[]) AS t(id)
    CROSS JOIN LATERAL (
      SELECT id, status, created_at, http_req_duration_p95 FROM runs WHERE test_id = t.id ORDER BY created_at DESC, id DESC LIMIT 1
    ) AS r`
  return new Map(rows.map((r) => [r.testId, r]))
}

type TestRow = Test & { variables?: VariableRow[]; files?: StoredFile[] }

async function withLastRuns<T extends TestRow>(ctx: Context, tests: T[]): Promise<TestDto[]> {
  const last = await lastRuns(ctx, tests.map((t) => t.id))
  return tests.map((t) => toTestDto(t, last.get(t.id)))
}

const toTestDto = (test: TestRow, last?: LastRun): TestDto => {
  return {
    id: test.id,
    projectId: test.projectId,
    name: test.name,
    description: test.description,
    script: test.script,
    files: (test.files ?? []).map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })),
    archive: test.archiveSha256 !== null ? { sha256: test.archiveSha256, size: test.archiveSize ?? 0 } : null,
    rawSamples: test.rawSamples,
    createdAt: test.createdAt.toISOString(),
    updatedAt: test.updatedAt.toISOString(),
    lastRun: last ? { id: last.id, status: last.status, createdAt: last.createdAt.toISOString(), p95: last.p95 } : null,
    ...toVariablesDto(test.variables),
  }
}

const namedValues = (list: { name: string; value: string }[] = []) => Object.fromEntries(list.map((v) => [v.name, v.value]))

const notFound = (id: string) => new TRPCError({ code: 'NOT_FOUND', message: `test ${id} does not exist` })
const filesSelect = { select: { path: true, sha256: true, size: true }, orderBy: { path: 'asc' } } as const
const withVariables = { variables: variablesSelect, files: filesSelect }

/** What a test runs: its script with its files, or an archive (whose entry script is kept as the test's script). */
interface Entry {
  script: string
  files: StoredFile[]
  archive: StoredArchive | null
}

/** The entry a create or update gives, its files and archive checked against the project's uploads and the caps. */
async function givenEntry(ctx: Context, projectId: string, input: { script?: string | undefined; files?: { path: string; sha256: string }[] | undefined; archive?: string | undefined }, current?: Entry): Promise<Entry> {
  if (input.archive !== undefined) {
    const { archive, summary } = await resolveArchive(ctx, projectId, input.archive)
    return { script: summary.entry.source, files: [], archive }
  }
  if (current?.archive && input.script === undefined) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'files: this test runs a k6 archive, which holds its own files; give a script with the files to make it a script test, or upload a new archive' })
  }
  return {
    script: input.script ?? current?.script ?? '',
    files: input.files !== undefined ? await resolveFileRefs(ctx, projectId, input.files) : current?.archive ? [] : (current?.files ?? []),
    archive: null,
  }
}

const bundleOf = (ctx: Context, projectId: string, entry: Entry) => ({ files: entry.files, archive: entry.archive, read: blobReader(ctx, projectId) })
const fileRows = (files: StoredFile[]) => files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }))

export const testsRouter = router({
  create: projectProcedure('write').input(testCreateInput).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    const entry = await givenEntry(ctx, projectId, input)
    await assertRunnable(ctx, entry.script, validationEnv(namedValues(input.variables), (input.secrets ?? []).map((s) => s.name)), await projectLimits(ctx, projectId), bundleOf(ctx, projectId, entry))
    const variables = variablesForCreate(input, ctx.config.secretsKey)
    const test = await ctx.db.test.create({
      data: {
        projectId,
        name: input.name,
        description: input.description ?? '',
        script: entry.script,
        ...(entry.archive ? { archiveSha256: entry.archive.sha256, archiveSize: entry.archive.size } : {}),
        rawSamples: input.rawSamples ?? false,
        variables: { create: variables },
        files: { create: fileRows(entry.files) },
      },
      include: withVariables,
    })
    await audit(ctx.db, ctx.actor, projectId, { action: 'test.create', targetType: 'test', targetId: test.id, details: { name: test.name, secrets: test.variables.filter((v) => v.secret).map((v) => v.name) } })
    return toTestDto(test)
  }),
  update: projectProcedure('write').input(testUpdateInput).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.test(input.id)
    // A new script, files or archive is validated as the whole test it makes.
    let entry: Entry | undefined
    if (input.script !== undefined || input.files !== undefined || input.archive !== undefined) {
      const current = await ctx.db.test.findUnique({ where: { id: input.id }, select: { script: true, archiveSha256: true, archiveSize: true, files: filesSelect } })
      if (!current) throw notFound(input.id)
      entry = await givenEntry(ctx, projectId, input, { script: current.script, files: current.files, archive: current.archiveSha256 !== null ? { sha256: current.archiveSha256, size: current.archiveSize ?? 0 } : null })
      const stored = await ctx.db.testVariable.findMany({ where: { testId: input.id }, select: { name: true, secret: true, value: true } })
      const plain = input.variables ?? stored.filter((v) => !v.secret).map((v) => ({ name: v.name, value: v.value ?? '' }))
      const kept = stored.filter((v) => v.secret && !input.removeSecrets?.includes(v.name)).map((v) => v.name)
      await assertRunnable(ctx, entry.script, validationEnv(namedValues(plain), [...kept, ...(input.secrets ?? []).map((s) => s.name)]), await projectLimits(ctx, projectId), bundleOf(ctx, projectId, entry))
    }
    const { id, variables, secrets, removeSecrets, files: _files, archive: _archive, script: _script, ...fields } = input
    const data = entry ? { ...fields, script: entry.script, archiveSha256: entry.archive?.sha256 ?? null, archiveSize: entry.archive?.size ?? null } : fields
    await ctx.db.$transaction(async (tx) => {
      const updated = await tx.test.updateMany({ where: { id }, data })
      if (updated.count === 0) throw notFound(id)
      // The whole file set is replaced at once: a run created meanwhile snapshots the old set or the new one, never a mix.
      if (entry) {
        await tx.testFile.deleteMany({ where: { testId: id } })
        if (entry.files.length > 0) await tx.testFile.createMany({ data: fileRows(entry.files).map((f) => ({ ...f, testId: id })) })
      }
      await updateVariables(tx, id, { variables, secrets, removeSecrets }, ctx.config.secretsKey)
      // What changed, by field and variable name; never a value.
      const changed = { fields: [...Object.keys(fields), ...(input.script !== undefined ? ['script'] : []), ...(input.files !== undefined ? ['files'] : []), ...(input.archive !== undefined ? ['archive'] : [])], files: entry?.files.map((f) => f.path), variables: variables?.map((v) => v.name), secretsSet: secrets?.map((v) => v.name), secretsRemoved: removeSecrets }
      await audit(tx, ctx.actor, projectId, { action: 'test.update', targetType: 'test', targetId: id, details: JSON.parse(JSON.stringify(changed)) as object })
    })
    return (await withLastRuns(ctx, [await ctx.db.test.findUniqueOrThrow({ where: { id }, include: withVariables })]))[0]!
  }),
  byId: projectProcedure('read').input(byIdInput).query(async ({ ctx, input }) => {
    await ctx.access.test(input.id)
    const test = await ctx.db.test.findUnique({ where: { id: input.id }, include: withVariables })
    if (!test) throw notFound(input.id)
    return (await withLastRuns(ctx, [test]))[0]!
  }),
  list: projectProcedure('read').input(testListInput).query(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    const tests = await ctx.db.test.findMany({ where: { projectId }, orderBy: { updatedAt: 'desc' }, include: withVariables })
    return withLastRuns(ctx, tests)
  }),
  /** Deletes the test; its runs (and their artifacts) are kept and keep their script snapshot. */
  delete: projectProcedure('write').input(byIdInput).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.test(input.id)
    const usedBy = await ctx.db.jobTest.findMany({ where: { testId: input.id }, select: { job: { select: { name: true } } }, distinct: ['jobId'] })
    if (usedBy.length > 0) {
      throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `test ${input.id} is used by job(s) ${usedBy.map((u) => `"${u.job.name}"`).join(', ')}; remove it from them (or delete them) first` })
    }
    const deleted = await ctx.db.test.deleteMany({ where: { id: input.id } })
    if (deleted.count === 0) throw notFound(input.id)
    await audit(ctx.db, ctx.actor, projectId, { action: 'test.delete', targetType: 'test', targetId: input.id })
    return { id: input.id, deleted: true }
  }),
})
