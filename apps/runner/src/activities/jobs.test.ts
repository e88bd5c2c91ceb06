import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createDb, type Db } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import { createJobActivities, derivedUuid, firingStatus, quotaSkipReason, signWebhook, webhookEventFor, webhookRefusal } from './jobs.ts'

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
    activities = createJobActivities({ db, webUrl: 'http://127.0.0.1:3000', runTimeoutSeconds: 60, allowLoopbackTargets: false })
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
