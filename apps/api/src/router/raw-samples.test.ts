// Raw samples (k6's per-sample stream, the `samples` artifact) through the API on a real
// database: tests.create/update save the test's setting, runs.start takes the caller's choice or
// else the test's, and the run and test DTOs (runs.byId, runs.list, tests.byId) say which;
// jobs.create/update keep a job's setting for its firings' runs (null: each test's own).
// Validation's k6 and Temporal are stand-ins: what they answer is not what is tested here.
import { randomUUID } from 'node:crypto'
import type { ScheduleOptions } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import type { InspectResult } from '@stampede/runs'
import { DEFAULT_DURABILITY, type RunWorkflowInput } from '@stampede/shared/temporal'
import { newApiToken } from '../auth/secrets.ts'
import { ValidationGate } from '../scripts/gate.ts'
import { tokenCaller, type Caller } from './test-caller.ts'

const SCRIPT = 'export const options = { vus: 1, iterations: 1 }\nexport default function () {}'

let database: TestDatabase
let db: Db
let caller: Caller
/** The workflows runs.start started. */
const started: RunWorkflowInput[] = []
/** The Temporal schedules jobs.create made, by id. */
const schedules = new Map<string, ScheduleOptions>()
/** Scripts validation's k6 was asked to load. */
const inspected: string[] = []

beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url)
  await db.location.create({ data: { id: 'us-east', name: 'US East', region: 'Virginia' } })
  const project = await db.project.create({ data: { name: 'raw samples', maxConcurrentRuns: 100 } })
  const { token, prefix, hash } = newApiToken()
  await db.apiToken.create({ data: { projectId: project.id, name: 'raw samples', scope: 'admin', prefix, hash } })
  caller = tokenCaller(db, token, {
    config: {
      locations: [{ id: 'us-east', name: 'US East', region: 'Virginia' }],
      scriptLimits: { maxVUs: 100, maxDurationSeconds: 3600 },
      defaultRunTimeoutSeconds: 600,
      durability: DEFAULT_DURABILITY,
      jobMinIntervalSeconds: 60,
      sandbox: { validation: {}, validationTimeoutMs: 10_000 },
    },
    validation: {
      sandbox: {},
      gate: new ValidationGate({ concurrency: 2, maxWaitMs: 5000, perCallerPerMinute: 1000 }),
      cache: {
        inspect: async (request: { script: string }): Promise<InspectResult> => {
          inspected.push(request.script)
          return { ok: true, requirements: { maxVUs: 1, totalDurationSeconds: 1 } }
        },
      },
    },
    temporal: {
      workflow: {
        start: async (_workflow: string, opts: { args: [RunWorkflowInput] }) => {
          started.push(opts.args[0])
          return {}
        },
      },
      // Jobs' schedules: created and updated, described with no firing yet.
      options: { namespace: 'default' },
      schedule: {
        create: async (options: ScheduleOptions) => void schedules.set(options.scheduleId, options),
        getHandle: (scheduleId: string) => ({
          describe: async () => ({ info: { nextActionTimes: [], numActionsTaken: 0, numActionsSkippedOverlap: 0, runningActions: [] }, state: { paused: false } }),
          update: async () => {},
          delete: async () => void schedules.delete(scheduleId),
        }),
      },
      workflowService: { listScheduleMatchingTimes: async () => ({ startTime: [] }) },
    },
  })
})

afterAll(async () => {
  await db?.$disconnect()
  await database?.drop()
})

describe('tests with raw samples', () => {
  it('are created off unless asked, and update turns the setting on or off without touching the script', async () => {
    const plain = await caller.tests.create({ name: 'plain', script: SCRIPT })
    expect(plain.rawSamples).toBe(false)
    const sampled = await caller.tests.create({ name: 'sampled', script: SCRIPT, rawSamples: true })
    expect(sampled.rawSamples).toBe(true)
    expect((await caller.tests.byId({ id: sampled.id })).rawSamples).toBe(true)
    expect((await caller.tests.list({})).find((t) => t.id === sampled.id)?.rawSamples).toBe(true)

    const before = inspected.length
    expect((await caller.tests.update({ id: plain.id, rawSamples: true })).rawSamples).toBe(true)
    expect((await caller.tests.update({ id: plain.id, name: 'renamed' })).rawSamples).toBe(true)
    expect((await caller.tests.update({ id: plain.id, rawSamples: false })).rawSamples).toBe(false)
    // No script given: nothing to validate.
    expect(inspected.length).toBe(before)
    const audit = await db.auditEvent.findFirst({ where: { action: 'test.update', targetId: plain.id }, orderBy: { at: 'asc' } })
    expect(audit?.details).toMatchObject({ fields: ['rawSamples'] })
  })

  it('refuses a setting that is not a boolean, naming the field', async () => {
    await expect(caller.tests.create({ name: 'bad', script: SCRIPT, rawSamples: 'yes' as unknown as boolean })).rejects.toThrow(/rawSamples[\s\S]*must be true or false|must be true or false[\s\S]*rawSamples/)
  })
})

describe('runs.start with raw samples', () => {
  it('keeps them when asked, and not by default, for an unsaved script', async () => {
    const on = await caller.runs.start({ script: SCRIPT, location: 'us-east', rawSamples: true })
    expect(on.rawSamples).toBe(true)
    const off = await caller.runs.start({ script: SCRIPT, location: 'us-east' })
    expect(off.rawSamples).toBe(false)
    expect((await db.run.findUniqueOrThrow({ where: { id: on.id } })).rawSamples).toBe(true)
    expect(started.map((s) => s.runId)).toEqual(expect.arrayContaining([on.id, off.id]))
    const audit = await db.auditEvent.findFirst({ where: { action: 'run.start', targetId: on.id } })
    expect(audit?.details).toMatchObject({ rawSamples: true })
  })

  it('follows the saved test unless the run says otherwise', async () => {
    const sampled = await caller.tests.create({ name: 'sampled for runs', script: SCRIPT, rawSamples: true })
    const plain = await caller.tests.create({ name: 'plain for runs', script: SCRIPT })
    expect((await caller.runs.start({ testId: sampled.id, location: 'us-east' })).rawSamples).toBe(true)
    expect((await caller.runs.start({ testId: plain.id, location: 'us-east' })).rawSamples).toBe(false)
    const overridden = await caller.runs.start({ testId: sampled.id, location: 'us-east', rawSamples: false })
    expect(overridden.rawSamples).toBe(false)
    expect((await caller.runs.start({ testId: plain.id, location: 'us-east', rawSamples: true })).rawSamples).toBe(true)

    // runs.byId and runs.list say the same.
    expect((await caller.runs.byId({ id: overridden.id })).rawSamples).toBe(false)
    const listed = await caller.runs.list({ testId: sampled.id })
    expect(listed.items.map((r) => r.rawSamples)).toEqual([false, true])
  })

  it('refuses a setting that is not a boolean, naming the field', async () => {
    await expect(caller.runs.start({ script: SCRIPT, location: 'us-east', rawSamples: 1 as unknown as boolean })).rejects.toThrow(/rawSamples[\s\S]*must be true or false|must be true or false[\s\S]*rawSamples/)
  })
})

describe('jobs with raw samples', () => {
  const job = (testIds: string[]) => ({ name: `nightly ${randomUUID()}`, testIds, location: 'us-east', cron: '0 2 * * *' })

  it('follow each test\'s setting unless the job sets one, which update changes or clears', async () => {
    const test = await caller.tests.create({ name: 'for jobs', script: SCRIPT })
    const plain = await caller.jobs.create(job([test.id]))
    expect(plain.rawSamples).toBeNull()
    const sampled = await caller.jobs.create({ ...job([test.id]), rawSamples: true })
    expect(sampled.rawSamples).toBe(true)
    expect((await db.job.findUniqueOrThrow({ where: { id: sampled.id } })).rawSamples).toBe(true)
    expect(schedules.has(`job-${sampled.id}`)).toBe(true)
    expect((await caller.jobs.byId({ id: sampled.id })).rawSamples).toBe(true)
    const listed = await caller.jobs.list({})
    expect(listed.find((j) => j.id === plain.id)?.rawSamples).toBeNull()
    expect(listed.find((j) => j.id === sampled.id)?.rawSamples).toBe(true)

    expect((await caller.jobs.update({ id: plain.id, rawSamples: false })).rawSamples).toBe(false)
    // Kept when not given; null gives the choice back to the tests.
    expect((await caller.jobs.update({ id: plain.id, name: 'renamed' })).rawSamples).toBe(false)
    expect((await caller.jobs.update({ id: plain.id, rawSamples: null })).rawSamples).toBeNull()
    const audit = await db.auditEvent.findFirst({ where: { action: 'job.update', targetId: plain.id }, orderBy: { at: 'asc' } })
    expect(audit?.details).toMatchObject({ fields: ['rawSamples'] })
  })

  it('refuses a setting that is not a boolean or null, naming the field', async () => {
    const test = await caller.tests.create({ name: 'for a bad job', script: SCRIPT })
    await expect(caller.jobs.create({ ...job([test.id]), rawSamples: 'tests' as unknown as boolean })).rejects.toThrow(/rawSamples[\s\S]*must be true or false|must be true or false[\s\S]*rawSamples/)
  })
})
