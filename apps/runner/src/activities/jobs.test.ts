import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createDb, type Db } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import type { RunValidationRequest, ScriptValidation } from '@stampede/runs'
import { createJobActivities, derivedUuid, firingSkipReason, firingStatus, quotaSkipReason, signWebhook, webhookEventFor, webhookRefusal } from './jobs.ts'

describe('derivedUuid', () => {
  it('gives the same valid UUID for the same firing position, and different ones otherwise', () => {
    const a = derivedUuid('job-1-2026-11-24T00:00:00Z:0')
    expect(derivedUuid('job-1-2026-11-24T00:00:00Z:0')).toBe(a)
    expect(derivedUuid('job-1-2026-11-24T00:00:00Z:1')).not.toBe(a)
    expect(z.uuid().safeParse(a).success).toBe(true)
  })
})

describe('firingStatus', () => {
  it('passes only when every run passed', () => {
    expect(firingStatus(['passed', 'passed'], false)).toBe('passed')
    expect(firingStatus(['passed', 'failed'], false)).toBe('failed')
    expect(firingStatus(['failed', 'timed_out'], false)).toBe('error')
    expect(firingStatus(['passed', 'cancelled'], false)).toBe('cancelled')
    expect(firingStatus(['passed'], true)).toBe('cancelled')
    expect(firingStatus([], false)).toBe('error')
  })

  it('is skipped when a test was not started for the project\'s quota, unless the firing was cancelled', () => {
    expect(firingStatus(['passed'], false, true)).toBe('skipped')
    expect(firingStatus([], false, true)).toBe('skipped')
    expect(firingStatus(['failed'], false, true)).toBe('skipped')
    expect(firingStatus(['passed'], true, true)).toBe('cancelled')
  })
})

describe('quotaSkipReason', () => {
  it('names the project, its runs in flight and its limit, and the tests not started', () => {
    expect(quotaSkipReason({ project: 'Default', inFlight: 5, max: 5, test: 'checkout', position: 0, tests: 1 })).toBe(
      'project "Default" already has 5 run(s) queued or running and allows at most 5 at a time, so test "checkout" was not started',
    )
    expect(quotaSkipReason({ project: 'P', inFlight: 2, max: 2, test: 'b', position: 1, tests: 3 })).toBe(
      'project "P" already has 2 run(s) queued or running and allows at most 2 at a time, so test "b" (2 of 3) was not started, nor the test after it',
    )
    expect(quotaSkipReason({ project: 'P', inFlight: 1, max: 1, test: 'a', position: 0, tests: 4 })).toMatch(/"a" \(1 of 4\) was not started, nor the 3 tests after it$/)
  })
})

describe('webhookEventFor', () => {
  it('notifies failures, the first pass after a failure, or every firing, as asked', () => {
    expect(webhookEventFor(['failure'], 'failed', 'passed')).toBe('failure')
    expect(webhookEventFor(['failure'], 'passed', 'failed')).toBeNull()
    expect(webhookEventFor(['recovery'], 'passed', 'failed')).toBe('recovery')
    expect(webhookEventFor(['recovery'], 'passed', 'error')).toBe('recovery')
    expect(webhookEventFor(['recovery'], 'passed', 'passed')).toBeNull()
    expect(webhookEventFor(['recovery'], 'passed', null)).toBeNull()
    expect(webhookEventFor(['recovery'], 'failed', 'passed')).toBeNull()
    expect(webhookEventFor(['always'], 'passed', 'passed')).toBe('firing')
    expect(webhookEventFor(['always'], 'passed', 'failed')).toBe('recovery')
    expect(webhookEventFor(['always'], 'error', null)).toBe('failure')
    // A skipped firing ran nothing: a failure, and the next pass a recovery.
    expect(webhookEventFor(['failure'], 'skipped', 'passed')).toBe('failure')
    expect(webhookEventFor(['recovery'], 'passed', 'skipped')).toBe('recovery')
  })
})

describe('signWebhook', () => {
  it('is an HMAC-SHA256 of "<timestamp>.<body>" with the job secret', () => {
    const expected = createHmac('sha256', 'whsec_x').update('1700000000.{"a":1}').digest('hex')
    expect(signWebhook('whsec_x', '1700000000', '{"a":1}')).toBe(`sha256=${expected}`)
  })
})

describe('webhookRefusal', () => {
  const lookup = (map: Record<string, string[]>) => async (host: string) => (map[host] ?? [host]).map((address) => ({ address }))

  it('refuses private, loopback and metadata addresses, also behind a name, unless allowed', async () => {
    const names = lookup({ 'hooks.internal': ['10.0.0.7'], 'hooks.example': ['93.184.216.34'] })
    expect(await webhookRefusal('http://hooks.example/x', { allowLoopback: false, allowlist: [], lookup: names })).toBeNull()
    expect(await webhookRefusal('http://hooks.internal/x', { allowLoopback: false, allowlist: [], lookup: names })).toBe(
      "the webhook's address 10.0.0.7 (hooks.internal) is in a blocked range (10.0.0.0/8); a project admin can allowlist it",
    )
    expect(await webhookRefusal('http://169.254.169.254/latest', { allowLoopback: true, allowlist: [], lookup: names })).toMatch(/in a blocked range \(169\.254\.0\.0\/16\)/)
    expect(await webhookRefusal('http://[::1]:8080/x', { allowLoopback: false, allowlist: [], lookup: names })).toMatch(/::1 is in a blocked range/)
    expect(await webhookRefusal('http://127.0.0.1:8080/x', { allowLoopback: true, allowlist: [], lookup: names })).toBeNull()
    expect(await webhookRefusal('http://hooks.internal/x', { allowLoopback: false, allowlist: ['10.0.0.7'], lookup: names })).toBeNull()
  })
})

describe('a firing\'s runs and the project\'s maxConcurrentRuns (real Postgres)', () => {
  let database: TestDatabase
  let db: Db
  let activities: ReturnType<typeof createJobActivities>
  let seq = 0

  beforeAll(async () => {
    database = await createTestDatabase()
    db = createDb(database.url, { max: 8 })
    // Every script passes validation here: these tests are about the quota gate.
    const valid = async () => ({ ok: true as const, errors: [], warnings: [], requirements: { maxVUs: 1, totalDurationSeconds: 1 } })
    activities = createJobActivities({
      db,
      webUrl: 'http://127.0.0.1:3000',
      runTimeoutSeconds: 60,
      allowLoopbackTargets: false,
      runGates: { locations: [{ id: 'us-east' }], scriptLimits: { maxVUs: 100, maxDurationSeconds: 3600 }, validate: valid },
    })
    await db.location.create({ data: { id: 'us-east', name: 'US East', region: 'us-east-1' } })
  })
  afterAll(async () => {
    await db?.$disconnect()
    await database?.drop()
  })

  /** A project with `maxConcurrentRuns` and a job of `tests` tests in it. */
  async function world(maxConcurrentRuns: number, tests = 1) {
    const project = await db.project.create({ data: { name: `quota ${++seq}`, maxConcurrentRuns } })
    const saved = await Promise.all(Array.from({ length: tests }, (_, i) => db.test.create({ data: { projectId: project.id, name: `test ${i + 1}`, script: 'export default function () {}' } })))
    const job = await db.job.create({
      data: { projectId: project.id, name: 'job', locationId: 'us-east', cron: '0 0 1 1 *', tests: { create: saved.map((t, position) => ({ testId: t.id, position })) } },
    })
    return { project, job }
  }
  const fire = async (jobId: string) => (await activities.startFiring({ jobId, workflowId: `job-${jobId}-${++seq}`, scheduledAt: new Date().toISOString() }))!
  const manualRun = (projectId: string) =>
    db.run.create({ data: { projectId, script: 'x', locationId: 'us-east', trigger: 'manual', status: 'queued', workflowId: `run-manual-${++seq}`, timeoutSeconds: 60 } })

  it('starts a run while the project has room, and a retry returns the same run without a second row', async () => {
    const { project, job } = await world(2)
    await manualRun(project.id)
    const { firingId } = await fire(job.id)
    const first = await activities.prepareFiringRun({ firingId, position: 0 })
    expect(first).not.toBeNull()
    // The run counts itself now (2 of 2): a retry still finds it rather than refusing it.
    expect(await activities.prepareFiringRun({ firingId, position: 0 })).toEqual(first)
    expect(await db.run.count({ where: { firingId } })).toBe(1)
    expect(await activities.finishFiring({ firingId, cancelled: false })).toMatchObject({ status: 'error' }) // its run never ran here
  })

  it('does not start a run beyond the quota: the firing is skipped with the reason, also on retry, and so are later tests', async () => {
    const { project, job } = await world(1, 2)
    await manualRun(project.id)
    const { firingId } = await fire(job.id)
    expect(await activities.prepareFiringRun({ firingId, position: 0 })).toBeNull()
    const reason = `project "${project.name}" already has 1 run(s) queued or running and allows at most 1 at a time, so test "test 1" (1 of 2) was not started, nor the test after it`
    expect((await db.jobFiring.findUniqueOrThrow({ where: { id: firingId } })).reason).toBe(reason)

    // Room appears (the manual run ends), but a retry and the later test keep the firing's decision.
    await db.run.updateMany({ where: { projectId: project.id }, data: { status: 'passed' } })
    expect(await activities.prepareFiringRun({ firingId, position: 0 })).toBeNull()
    expect(await activities.prepareFiringRun({ firingId, position: 1 })).toBeNull()
    expect(await db.run.count({ where: { firingId } })).toBe(0)
    expect(await activities.finishFiring({ firingId, cancelled: false })).toEqual({ status: 'skipped', event: null })
    expect(await db.jobFiring.findUniqueOrThrow({ where: { id: firingId } })).toMatchObject({ status: 'skipped', reason })

    // The next firing has room.
    const next = await fire(job.id)
    expect(await activities.prepareFiringRun({ firingId: next.firingId, position: 0 })).not.toBeNull()
  })

  it('lets only as many concurrent firings and manual starts through as the quota allows', async () => {
    const { project, job } = await world(3)
    const firings = await Promise.all(Array.from({ length: 8 }, () => fire(job.id)))
    // A manual start as runs.start makes it, under the same lock, racing the firings.
    const manual = db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${project.id}))::text`
      const inFlight = await tx.run.count({ where: { projectId: project.id, status: { in: ['queued', 'running'] } } })
      return inFlight < 3 ? tx.run.create({ data: { projectId: project.id, script: 'x', locationId: 'us-east', trigger: 'manual', status: 'queued', workflowId: `run-manual-${++seq}`, timeoutSeconds: 60 } }) : null
    })
    const [started, manualRun] = await Promise.all([Promise.all(firings.map((f) => activities.prepareFiringRun({ firingId: f.firingId, position: 0 }))), manual])
    const total = started.filter((r) => r !== null).length + (manualRun ? 1 : 0)
    expect(total).toBe(3)
    expect(await db.run.count({ where: { projectId: project.id, status: 'queued' } })).toBe(3)
    const skipped = await db.jobFiring.count({ where: { jobId: job.id, reason: { not: null } } })
    expect(skipped).toBe(8 - started.filter((r) => r !== null).length)
  })
})

describe('firingSkipReason', () => {
  const at = { test: 'checkout', position: 0, tests: 2 }
  it('says which gate refused the test, what is wrong and how to fix it', () => {
    expect(firingSkipReason({ gate: 'quota', message: '', quota: { name: 'P', inFlight: 1, max: 1 } }, at)).toBe(quotaSkipReason({ project: 'P', inFlight: 1, max: 1, ...at }))
    expect(firingSkipReason({ gate: 'location', message: '', location: 'eu-west', configured: ['us-east', 'eu-central'] }, at)).toBe(
      'test "checkout" (1 of 2) was not started, nor the test after it: the job\'s location "eu-west" is not a configured location (LOCATIONS has us-east, eu-central); edit the job to use one of them, or configure "eu-west" again',
    )
    const tooMany = { code: 'too-many-vus', message: 'The script needs up to 5 VUs; this project allows at most 2. Lower vus, stage targets or maxVUs to 2 or fewer.', line: 1, column: 1 }
    expect(firingSkipReason({ gate: 'caps', message: '', findings: [tooMany], caps: { maxVUs: 2, maxDurationSeconds: 3600, owner: 'project' } }, { ...at, position: 1 })).toBe(
      'test "checkout" (2 of 2) was not started: its script has an error: 1:1 too-many-vus: The script needs up to 5 VUs; this project allows at most 2. Lower vus, stage targets or maxVUs to 2 or fewer. Or ask a project admin to raise the project\'s maxVus / maxDurationSeconds (up to the platform\'s MAX_VUS / MAX_DURATION_SECONDS).',
    )
    const engine = { code: 'engine-error', message: 'k6 could not load the script: boom', line: 3, column: 7 }
    expect(firingSkipReason({ gate: 'validation', message: '', findings: [engine, tooMany], caps: { maxVUs: 2, maxDurationSeconds: 3600, owner: 'platform' } }, { ...at, tests: 1 })).toBe(
      `test "checkout" was not started: its script has 2 errors: 3:7 engine-error: k6 could not load the script: boom; 1:1 too-many-vus: ${tooMany.message}`,
    )
    expect(firingSkipReason({ gate: 'test', message: '', testId: 'x' }, { ...at, tests: 1 })).toBe('test "checkout" was not started: the test no longer exists; remove it from the job')
  })
})

describe('a firing\'s runs pass the same gates as runs.start (real Postgres)', () => {
  let database: TestDatabase
  let db: Db
  let seq = 0
  const calls: RunValidationRequest[] = []
  /** What k6 would say each script needs: `vus:N` in the script. */
  let answer: (r: RunValidationRequest) => ScriptValidation
  const needs = (r: RunValidationRequest): ScriptValidation => ({ ok: true, errors: [], warnings: [], requirements: { maxVUs: Number(/vus: (\d+)/.exec(r.script)?.[1] ?? 1), totalDurationSeconds: 1 } })
  let activities: ReturnType<typeof createJobActivities>

  beforeAll(async () => {
    database = await createTestDatabase()
    db = createDb(database.url, { max: 8 })
    await db.location.createMany({ data: [{ id: 'us-east', name: 'US East', region: 'us-east-1' }, { id: 'retired', name: 'Retired', region: 'nowhere' }] })
    activities = createJobActivities({
      db,
      webUrl: 'http://127.0.0.1:3000',
      runTimeoutSeconds: 60,
      allowLoopbackTargets: false,
      runGates: {
        locations: [{ id: 'us-east' }],
        scriptLimits: { maxVUs: 100, maxDurationSeconds: 3600 },
        validate: async (r) => {
          calls.push(r)
          return answer(r)
        },
      },
    })
  })
  afterAll(async () => {
    await db?.$disconnect()
    await database?.drop()
  })

  async function world(scripts: string[], opts: { maxVus?: number; location?: string } = {}) {
    const project = await db.project.create({ data: { name: `gates ${++seq}`, ...(opts.maxVus ? { maxVus: opts.maxVus } : {}) } })
    const saved = []
    for (const [i, script] of scripts.entries()) saved.push(await db.test.create({ data: { projectId: project.id, name: `test ${i + 1}`, script } }))
    const job = await db.job.create({
      data: { projectId: project.id, name: 'job', locationId: opts.location ?? 'us-east', cron: '0 0 1 1 *', tests: { create: saved.map((t, position) => ({ testId: t.id, position })) } },
    })
    return { project, job }
  }
  const fire = async (jobId: string) => (await activities.startFiring({ jobId, workflowId: `job-${jobId}-${++seq}`, scheduledAt: new Date().toISOString() }))!

  it('starts a run whose script passes, validated under the project\'s caps', async () => {
    answer = needs
    const { project, job } = await world(['export const options = { vus: 2 }'], { maxVus: 3 })
    const { firingId } = await fire(job.id)
    calls.length = 0
    const run = await activities.prepareFiringRun({ firingId, position: 0 })
    expect(run).not.toBeNull()
    expect(calls).toHaveLength(1)
    expect(calls[0]!.caps).toEqual({ maxVUs: 3, maxDurationSeconds: 3600, owner: 'project' })
    expect(await db.run.findUniqueOrThrow({ where: { id: run!.runId } })).toMatchObject({ projectId: project.id, trigger: 'schedule', jobId: job.id, firingId, status: 'queued' })
    // A retry returns the same run without validating again.
    expect(await activities.prepareFiringRun({ firingId, position: 0 })).toEqual(run)
    expect(calls).toHaveLength(1)
  })

  it('skips a test over a lowered project cap, and the tests after it, with the reason', async () => {
    answer = needs
    const { project, job } = await world(['export const options = { vus: 1 }', 'export const options = { vus: 5 }', 'export const options = { vus: 1 }'])
    await db.project.update({ where: { id: project.id }, data: { maxVus: 2 } })
    const { firingId } = await fire(job.id)
    expect(await activities.prepareFiringRun({ firingId, position: 0 })).not.toBeNull()
    expect(await activities.prepareFiringRun({ firingId, position: 1 })).toBeNull()
    const reason =
      'test "test 2" (2 of 3) was not started, nor the test after it: its script has an error: 1:1 too-many-vus: The script needs up to 5 VUs; this project allows at most 2. Lower vus, stage targets or maxVUs to 2 or fewer. Or ask a project admin to raise the project\'s maxVus / maxDurationSeconds (up to the platform\'s MAX_VUS / MAX_DURATION_SECONDS).'
    expect((await db.jobFiring.findUniqueOrThrow({ where: { id: firingId } })).reason).toBe(reason)
    // The later test is not started (not even validated), and a retry keeps the decision.
    calls.length = 0
    expect(await activities.prepareFiringRun({ firingId, position: 2 })).toBeNull()
    expect(await activities.prepareFiringRun({ firingId, position: 1 })).toBeNull()
    expect(calls).toEqual([])
    expect(await db.run.count({ where: { firingId } })).toBe(1)
    await db.run.updateMany({ where: { firingId }, data: { status: 'passed' } })
    expect(await activities.finishFiring({ firingId, cancelled: false })).toEqual({ status: 'skipped', event: null })
    expect(await db.jobFiring.findUniqueOrThrow({ where: { id: firingId } })).toMatchObject({ status: 'skipped', reason })
  })

  it('skips a test whose script no longer validates, and a job whose location is no longer configured', async () => {
    answer = () => ({ ok: false, errors: [{ code: 'engine-error', message: 'k6 could not load the script: SyntaxError', line: 2, column: 1 }], warnings: [], requirements: null })
    const broken = await world(['broken'])
    const first = await fire(broken.job.id)
    expect(await activities.prepareFiringRun({ firingId: first.firingId, position: 0 })).toBeNull()
    expect((await db.jobFiring.findUniqueOrThrow({ where: { id: first.firingId } })).reason).toBe('test "test 1" was not started: its script has an error: 2:1 engine-error: k6 could not load the script: SyntaxError')

    answer = needs
    const retired = await world(['export default function () {}'], { location: 'retired' })
    const second = await fire(retired.job.id)
    expect(await activities.prepareFiringRun({ firingId: second.firingId, position: 0 })).toBeNull()
    expect((await db.jobFiring.findUniqueOrThrow({ where: { id: second.firingId } })).reason).toMatch(/^test "test 1" was not started: the job's location "retired" is not a configured location \(LOCATIONS has us-east\)/)
    expect(await db.run.count({ where: { firingId: { in: [first.firingId, second.firingId] } } })).toBe(0)
  })

  it('gives the runs the job\'s raw-samples setting, or each test\'s own when the job has none', async () => {
    answer = needs
    const { project, job } = await world(['export default function () {}', 'export default function () {}'])
    const tests = await db.jobTest.findMany({ where: { jobId: job.id }, orderBy: { position: 'asc' } })
    await db.test.update({ where: { id: tests[0]!.testId }, data: { rawSamples: true } })
    const kept = async () => {
      const { firingId } = await fire(job.id)
      const runs = []
      for (const position of [0, 1]) runs.push(await activities.prepareFiringRun({ firingId, position }))
      // Ended, so that the project's maxConcurrentRuns never holds the next firing back.
      await db.run.updateMany({ where: { firingId }, data: { status: 'passed' } })
      return Promise.all(runs.map(async (r) => (await db.run.findUniqueOrThrow({ where: { id: r!.runId } })).rawSamples))
    }
    expect(job.rawSamples).toBeNull()
    expect(await kept()).toEqual([true, false])
    await db.job.update({ where: { id: job.id }, data: { rawSamples: true } })
    expect(await kept()).toEqual([true, true])
    await db.job.update({ where: { id: job.id }, data: { rawSamples: false } })
    expect(await kept()).toEqual([false, false])
    await db.job.update({ where: { id: job.id }, data: { rawSamples: null } })
    expect(await kept()).toEqual([true, false])
    expect(await db.run.count({ where: { projectId: project.id } })).toBe(8)
  })

  it('records nothing when the validator cannot tell: the activity fails and Temporal retries it', async () => {
    answer = () => {
      throw new Error('the k6 sandbox could not start: bwrap missing')
    }
    const { job } = await world(['export default function () {}'])
    const { firingId } = await fire(job.id)
    await expect(activities.prepareFiringRun({ firingId, position: 0 })).rejects.toThrow('the k6 sandbox could not start')
    expect(await db.jobFiring.findUniqueOrThrow({ where: { id: firingId } })).toMatchObject({ reason: null })
    answer = needs
    expect(await activities.prepareFiringRun({ firingId, position: 0 })).not.toBeNull()
  })
})
