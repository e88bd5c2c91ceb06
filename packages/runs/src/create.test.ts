// createRun's gates, in order, on a real Postgres database (a fresh one for this file), with a
// validator that answers what a test tells it to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '@stampede/db'
import { createTestDatabase, type TestDatabase } from '@stampede/db/testing'
import { createRun, type CreateRunDeps, type CreateRunRequest } from './create.ts'
import { failedToStart, markRunning } from './status.ts'
import { SECRET_STAND_IN, type RunValidationRequest, type ScriptValidation } from './validation.ts'

let database: TestDatabase
let db: Db
let seq = 0

beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url, { max: 8 })
  await db.location.createMany({ data: [{ id: 'us-east', name: 'US East', region: 'Virginia' }, { id: 'gone', name: 'Gone', region: 'Nowhere' }] })
})
afterAll(async () => {
  await db?.$disconnect()
  await database?.drop()
})

const LOCATIONS = [{ id: 'us-east' }, { id: 'eu-central' }]
const PLATFORM = { maxVUs: 100, maxDurationSeconds: 3600 }
const QUICK = 'export const options = { vus: 1, iterations: 1 }\nexport default function () {}'

/** A validator that records what it was asked and answers `answer` (k6 needs 1 VU for 1 s by default). */
function fakeValidator(answer: (r: RunValidationRequest) => ScriptValidation = () => ({ ok: true, errors: [], warnings: [], requirements: { maxVUs: 1, totalDurationSeconds: 1 } })) {
  const calls: RunValidationRequest[] = []
  const validate = async (r: RunValidationRequest) => {
    calls.push(r)
    return answer(r)
  }
  return { calls, validate }
}

function depsWith(validator = fakeValidator()): CreateRunDeps & { calls: RunValidationRequest[] } {
  return { db, locations: LOCATIONS, validation: { validate: validator.validate, scriptLimits: PLATFORM }, calls: validator.calls }
}

async function project(data: { maxConcurrentRuns?: number; maxVus?: number; maxDurationSeconds?: number } = {}) {
  return db.project.create({ data: { name: `project ${++seq}`, ...data } })
}

async function savedTest(projectId: string, opts: { script?: string; variables?: Record<string, string>; secrets?: string[]; rawSamples?: boolean } = {}) {
  return db.test.create({
    data: {
      projectId,
      name: `test ${++seq}`,
      script: opts.script ?? QUICK,
      ...(opts.rawSamples !== undefined ? { rawSamples: opts.rawSamples } : {}),
      variables: {
        create: [
          ...Object.entries(opts.variables ?? {}).map(([name, value]) => ({ name, value, secret: false })),
          ...(opts.secrets ?? []).map((name) => ({ name, secret: true, ciphertext: 'v1:not-read-here' })),
        ],
      },
    },
  })
}

const request = (projectId: string, more: Partial<CreateRunRequest> = {}): CreateRunRequest => ({ projectId, location: 'us-east', trigger: 'manual', timeoutSeconds: 60, ...more })
const runsOf = (projectId: string) => db.run.count({ where: { projectId } })

describe('createRun', () => {
  it('creates a queued run of a saved test with its variables snapshotted, after validating its script with stand-ins for its secrets', async () => {
    const p = await project({ maxVus: 10 })
    const test = await savedTest(p.id, { variables: { BASE_URL: 'https://a.example', MODE: 'x' }, secrets: ['TOKEN'] })
    const deps = depsWith()
    const result = await createRun(deps, request(p.id, { testId: test.id, env: { MODE: 'y' }, trigger: 'api' }))
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.created).toBe(true)
    expect(result.run).toMatchObject({ projectId: p.id, testId: test.id, script: QUICK, status: 'queued', trigger: 'api', locationId: 'us-east', timeoutSeconds: 60, workflowId: `run-${result.run.id}` })
    // Plain variables, overridden by env; never the secret.
    expect(result.run.env).toEqual({ BASE_URL: 'https://a.example', MODE: 'y' })
    expect(deps.calls).toEqual([{ script: QUICK, env: { BASE_URL: 'https://a.example', MODE: 'y', TOKEN: SECRET_STAND_IN }, caps: { maxVUs: 10, maxDurationSeconds: 3600, owner: 'project' }, bundle: { files: [], archive: null, read: expect.any(Function) } }])
  })

  it("snapshots a saved test's files onto the run, validated with them, and a rerun takes the earlier run's files, not the test's new ones", async () => {
    const p = await project()
    const test = await savedTest(p.id, { variables: { MODE: 'x' } })
    const v1 = [{ path: 'data/a.json', sha256: 'a'.repeat(64), size: 2 }, { path: 'lib/m.js', sha256: 'b'.repeat(64), size: 30 }]
    await db.testFile.createMany({ data: v1.map((f) => ({ ...f, testId: test.id })) })
    const deps = depsWith()
    const first = await createRun(deps, request(p.id, { testId: test.id }))
    if (!first.ok) throw new Error(first.refusal.message)
    expect(deps.calls[0]!.bundle).toMatchObject({ files: v1, archive: null })
    expect(await db.runFile.findMany({ where: { runId: first.run.id }, select: { path: true, sha256: true, size: true }, orderBy: { path: 'asc' } })).toEqual(v1)

    await db.testFile.deleteMany({ where: { testId: test.id } })
    await db.testFile.create({ data: { testId: test.id, path: 'data/a.json', sha256: 'c'.repeat(64), size: 3 } })
    await db.testVariable.updateMany({ where: { testId: test.id, name: 'MODE' }, data: { value: 'changed' } })
    const again = await createRun(deps, request(p.id, { rerunOf: first.run.id }))
    if (!again.ok) throw new Error(again.refusal.message)
    expect(again.run).toMatchObject({ testId: test.id, script: QUICK, env: { MODE: 'x' } })
    expect(deps.calls[1]!.bundle).toMatchObject({ files: v1 })
    expect(await db.runFile.count({ where: { runId: again.run.id } })).toBe(2)

    const other = await project()
    const foreign = await createRun(deps, request(other.id, { rerunOf: first.run.id }))
    expect(foreign).toMatchObject({ ok: false, refusal: { gate: 'test', message: `id: run ${first.run.id} does not exist` } })
  })

  it('runs an unsaved script with only the env given, and records the firing it belongs to', async () => {
    const p = await project()
    const job = await db.job.create({ data: { projectId: p.id, name: 'job', locationId: 'us-east', cron: '0 0 1 1 *' } })
    const firing = await db.jobFiring.create({ data: { jobId: job.id, workflowId: `w-${++seq}`, scheduledAt: new Date() } })
    const result = await createRun(depsWith(), request(p.id, { script: QUICK, trigger: 'schedule', firing: { jobId: job.id, firingId: firing.id } }))
    expect(result).toMatchObject({ ok: true, run: { testId: null, env: null, trigger: 'schedule', jobId: job.id, firingId: firing.id } })
  })

  it('location: refuses a location that is not configured (also one the database still knows), before anything else', async () => {
    const p = await project()
    const deps = depsWith()
    for (const location of ['mars-north', 'gone']) {
      expect(await createRun(deps, request(p.id, { location, testId: crypto.randomUUID() }))).toEqual({
        ok: false,
        refusal: { gate: 'location', location, configured: ['us-east', 'eu-central'], message: `location: "${location}" is not a configured location; choose one of us-east, eu-central` },
      })
    }
    expect(deps.calls).toEqual([])
    expect(await runsOf(p.id)).toBe(0)
  })

  it('test: refuses a test that does not exist or belongs to another project', async () => {
    const p = await project()
    const other = await savedTest((await project()).id)
    for (const testId of [crypto.randomUUID(), other.id]) {
      expect(await createRun(depsWith(), request(p.id, { testId }))).toEqual({ ok: false, refusal: { gate: 'test', testId, message: `testId: test ${testId} does not exist` } })
    }
    expect(await runsOf(p.id)).toBe(0)
  })

  it('variables: refuses env naming one of the test\'s secrets, before validating', async () => {
    const p = await project()
    const test = await savedTest(p.id, { secrets: ['API_TOKEN'] })
    const deps = depsWith()
    expect(await createRun(deps, request(p.id, { testId: test.id, env: { API_TOKEN: 'plain' } }))).toEqual({
      ok: false,
      refusal: { gate: 'variables', name: 'API_TOKEN', message: 'env.API_TOKEN: API_TOKEN is a secret of this test; the run uses the stored secret' },
    })
    expect(deps.calls).toEqual([])
    expect(await runsOf(p.id)).toBe(0)
  })

  it('validation: refuses a script with errors, listing each, before the quota is looked at', async () => {
    const p = await project({ maxConcurrentRuns: 1 })
    await createRun(depsWith(), request(p.id, { script: QUICK })) // the project is now at its quota
    const engineError = { code: 'engine-error', message: 'k6 could not load the script: ReferenceError: nope is not defined', line: 2, column: 5 }
    const deps = depsWith(fakeValidator(() => ({ ok: false, errors: [engineError], warnings: [], requirements: null })))
    const result = await createRun(deps, request(p.id, { script: 'nope()' }))
    expect(result).toEqual({
      ok: false,
      refusal: { gate: 'validation', findings: [engineError], caps: { maxVUs: 100, maxDurationSeconds: 3600, owner: 'platform' }, message: 'script: has an error\n2:5 engine-error: k6 could not load the script: ReferenceError: nope is not defined' },
    })
    expect(await runsOf(p.id)).toBe(1)
  })

  it('caps: refuses a script needing more VUs or time than the project allows, also when the validator did not apply the caps', async () => {
    const p = await project({ maxVus: 2, maxDurationSeconds: 60 })
    const needs = { maxVUs: 5, totalDurationSeconds: 90 }
    // A validator that only reports what k6 says the script needs: createRun applies the caps.
    const deps = depsWith(fakeValidator(() => ({ ok: true, errors: [], warnings: [], requirements: needs })))
    const result = await createRun(deps, request(p.id, { script: QUICK }))
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.refusal).toMatchObject({ gate: 'caps', caps: { maxVUs: 2, maxDurationSeconds: 60, owner: 'project' } })
    expect(result.refusal.message).toBe(
      'script: has 2 errors\n' +
        '1:1 too-many-vus: The script needs up to 5 VUs; this project allows at most 2. Lower vus, stage targets or maxVUs to 2 or fewer.\n' +
        '1:1 too-long: The script can run for up to 90 s (durations plus graceful stops, or maxDuration for iteration-based scenarios); this project allows at most 1 min. Shorten the stages or durations.',
    )
    // A validator that applied them itself: the same refusal, each finding once.
    const applied = depsWith(fakeValidator(({ caps }) => ({ ok: false, errors: [{ code: 'too-many-vus', message: `at most ${caps.maxVUs}`, line: 1, column: 1 }], warnings: [], requirements: { maxVUs: 5, totalDurationSeconds: 1 } })))
    expect(await createRun(applied, request(p.id, { script: QUICK }))).toMatchObject({ ok: false, refusal: { gate: 'caps', findings: [{ code: 'too-many-vus', message: 'at most 2' }] } })
    expect(await runsOf(p.id)).toBe(0)
  })

  it('quota: refuses a run beyond maxConcurrentRuns, counting queued and running runs', async () => {
    const p = await project({ maxConcurrentRuns: 2 })
    const first = await createRun(depsWith(), request(p.id, { script: QUICK }))
    await createRun(depsWith(), request(p.id, { script: QUICK }))
    if (!first.ok) throw new Error('the first run was refused')
    expect(await markRunning(db, first.run.id, new Date())).toBe(true)
    expect(await createRun(depsWith(), request(p.id, { script: QUICK }))).toEqual({
      ok: false,
      refusal: {
        gate: 'quota',
        quota: { name: p.name, inFlight: 2, max: 2 },
        message: `project "${p.name}" already has 2 run(s) queued or running and allows at most 2 at a time; wait for one to finish, cancel one, or ask an admin to raise maxConcurrentRuns`,
      },
    })
    await db.run.update({ where: { id: first.run.id }, data: { status: 'passed' } })
    expect((await createRun(depsWith(), request(p.id, { script: QUICK }))).ok).toBe(true)
  })

  it('lets exactly maxConcurrentRuns of many simultaneous creations through', async () => {
    const p = await project({ maxConcurrentRuns: 3 })
    const results = await Promise.all(Array.from({ length: 10 }, () => createRun(depsWith(), request(p.id, { script: QUICK }))))
    expect(results.filter((r) => r.ok)).toHaveLength(3)
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.refusal.gate)).toEqual(Array(7).fill('quota'))
    expect(await runsOf(p.id)).toBe(3)
  })

  it('is idempotent with a given id: a retry returns the run it created without passing the gates again', async () => {
    const p = await project({ maxConcurrentRuns: 1 })
    const test = await savedTest(p.id)
    const id = crypto.randomUUID()
    const first = await createRun(depsWith(), request(p.id, { id, testId: test.id, trigger: 'schedule' }))
    expect(first).toMatchObject({ ok: true, created: true, run: { id } })
    // The run counts itself against the quota now, and the project's caps dropped: a retry still finds it.
    await db.project.update({ where: { id: p.id }, data: { maxVus: 1 } })
    const retryDeps = depsWith(fakeValidator(() => ({ ok: false, errors: [{ code: 'too-many-vus', message: 'no', line: 1, column: 1 }], warnings: [], requirements: null })))
    const again = await createRun({ ...retryDeps, locations: [] }, request(p.id, { id, testId: test.id, trigger: 'schedule' }))
    expect(again).toMatchObject({ ok: true, created: false, run: { id } })
    expect(retryDeps.calls).toEqual([])
    // Two attempts at once make one row.
    const id2 = crypto.randomUUID()
    await db.run.update({ where: { id }, data: { status: 'passed' } })
    const both = await Promise.all([createRun(depsWith(), request(p.id, { id: id2, script: QUICK })), createRun(depsWith(), request(p.id, { id: id2, script: QUICK }))])
    expect(both.map((r) => r.ok && r.created).sort()).toEqual([false, true])
    expect(await db.run.count({ where: { id: id2 } })).toBe(1)
  })

  it('skips the location gate without locations and the validation and caps gates without a validator', async () => {
    const p = await project({ maxVus: 1 })
    const result = await createRun({ db, locations: null, validation: null }, request(p.id, { location: 'gone', script: 'export default function () {}' }))
    expect(result).toMatchObject({ ok: true, run: { locationId: 'gone' } })
  })

  it('writes nothing when the validator cannot tell (the sandbox failed): the error is the caller\'s to retry', async () => {
    const p = await project()
    const deps = depsWith(fakeValidator(() => {
      throw new Error('the k6 sandbox could not start')
    }))
    await expect(createRun(deps, request(p.id, { script: QUICK }))).rejects.toThrow('the k6 sandbox could not start')
    expect(await runsOf(p.id)).toBe(0)
  })
})

describe('createRun: raw samples', () => {
  const created = async (result: Promise<Awaited<ReturnType<typeof createRun>>>) => {
    const r = await result
    if (!r.ok) throw new Error(`refused: ${r.refusal.message}`)
    return r.run
  }

  it('are what the caller asked, for an unsaved script and over a saved test\'s setting either way', async () => {
    const p = await project()
    expect((await created(createRun(depsWith(), request(p.id, { script: QUICK })))).rawSamples).toBe(false)
    expect((await created(createRun(depsWith(), request(p.id, { script: QUICK, rawSamples: true })))).rawSamples).toBe(true)
    expect((await created(createRun(depsWith(), request(p.id, { script: QUICK, rawSamples: false })))).rawSamples).toBe(false)
    const off = await savedTest(p.id)
    const on = await savedTest(p.id, { rawSamples: true })
    expect((await created(createRun(depsWith(), request(p.id, { testId: off.id, rawSamples: true })))).rawSamples).toBe(true)
    expect((await created(createRun(depsWith(), request(p.id, { testId: on.id, rawSamples: false })))).rawSamples).toBe(false)
  })

  it('are the saved test\'s setting when the caller does not say', async () => {
    const p = await project()
    const off = await savedTest(p.id)
    const on = await savedTest(p.id, { rawSamples: true })
    expect((await created(createRun(depsWith(), request(p.id, { testId: off.id })))).rawSamples).toBe(false)
    expect((await created(createRun(depsWith(), request(p.id, { testId: on.id, trigger: 'api' })))).rawSamples).toBe(true)
    // Read when the run is created: a later change to the test leaves the run as it was.
    await db.test.update({ where: { id: on.id }, data: { rawSamples: false } })
    expect((await created(createRun(depsWith(), request(p.id, { testId: on.id })))).rawSamples).toBe(false)
  })

  it('follow the test\'s setting for a scheduled firing, and a retried firing keeps what its run got', async () => {
    const p = await project()
    const on = await savedTest(p.id, { rawSamples: true })
    const off = await savedTest(p.id)
    const job = await db.job.create({ data: { projectId: p.id, name: 'nightly', locationId: 'us-east', cron: '0 2 * * *' } })
    const firing = await db.jobFiring.create({ data: { jobId: job.id, workflowId: `w-${++seq}`, scheduledAt: new Date() } })
    // What the runner's firing activity asks: the test, the schedule trigger, the firing; nothing about samples.
    const fire = (id: string, testId: string) => createRun(depsWith(), request(p.id, { id, testId, trigger: 'schedule', firing: { jobId: job.id, firingId: firing.id } }))
    const [idOn, idOff] = [crypto.randomUUID(), crypto.randomUUID()]
    expect(await fire(idOn, on.id)).toMatchObject({ ok: true, created: true, run: { id: idOn, trigger: 'schedule', firingId: firing.id, rawSamples: true } })
    expect(await fire(idOff, off.id)).toMatchObject({ ok: true, created: true, run: { id: idOff, trigger: 'schedule', rawSamples: false } })
    await db.test.update({ where: { id: on.id }, data: { rawSamples: false } })
    expect(await fire(idOn, on.id)).toMatchObject({ ok: true, created: false, run: { id: idOn, rawSamples: true } })
  })
})

describe('markRunning', () => {
  it('moves a queued run to running once, and nothing else', async () => {
    const p = await project()
    const created = await createRun(depsWith(), request(p.id, { script: QUICK }))
    if (!created.ok) throw new Error('refused')
    const { id } = created.run
    const startedAt = new Date('2027-01-10T12:00:00Z')
    expect(await markRunning(db, id, startedAt)).toBe(true)
    // A retry keeps the first start time.
    expect(await markRunning(db, id, new Date('2027-01-10T12:00:05Z'))).toBe(false)
    expect(await db.run.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'running', startedAt })
    // A finished run stays finished; an unknown run is no error.
    await db.run.update({ where: { id }, data: { status: 'passed' } })
    expect(await markRunning(db, id, new Date())).toBe(false)
    expect((await db.run.findUniqueOrThrow({ where: { id } })).status).toBe('passed')
    expect(await markRunning(db, crypto.randomUUID(), new Date())).toBe(false)
  })
})

describe('failedToStart', () => {
  it('ends a queued run error with the message, and leaves a run further along as it is', async () => {
    const p = await project()
    const created = await createRun(depsWith(), request(p.id, { script: QUICK }))
    if (!created.ok) throw new Error('refused')
    const { id } = created.run
    await failedToStart(db, id, 'the orchestrator did not answer')
    expect(await db.run.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'error', errorMessage: 'the orchestrator did not answer' })
    const other = await createRun(depsWith(), request(p.id, { script: QUICK }))
    if (!other.ok) throw new Error('refused')
    await markRunning(db, other.run.id, new Date())
    await failedToStart(db, other.run.id, 'late')
    expect(await db.run.findUniqueOrThrow({ where: { id: other.run.id } })).toMatchObject({ status: 'running', errorMessage: null })
  })
})
