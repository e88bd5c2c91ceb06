// Recurring jobs on a real Temporal dev server's Schedules, with the real runner and k6, aimed
// only at nothing or at a target this test starts on 127.0.0.1.
import { createHmac } from 'node:crypto'
import { createServer as createHttpServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, loadApiConfig, type ApiServer } from '@stampede/api'
import { createStampedeClient, uploadFiles } from '@stampede/sdk'
import { tokenClient, type Api } from '../src/clients.ts'
import { settled as settledJob } from '../src/jobs.ts'
import { startStack, type Stack } from '../src/stack.ts'
import { waitUntil } from '../src/wait.ts'

let stack: Stack

beforeAll(async () => {
  // Seconds-level schedules keep these tests short; the default minimum between firings is 60 s.
  stack = await startStack({ api: { JOB_MIN_INTERVAL_SECONDS: '1' } })
}, 120_000)
afterAll(async () => {
  await stack?.stop()
})

const QUICK = `export const options = { vus: 1, iterations: 1 }\nexport default function () {}`
const SLOW = (seconds: number) => `import { sleep } from 'k6'\nexport const options = { vus: 1, iterations: 1 }\nexport default function () { sleep(${seconds}) }`

async function saveTest(name: string, script: string, variables: { name: string; value: string }[] = []) {
  return stack.api.tests.create.mutate({ name: `${name} ${Date.now()}`, script, variables })
}

const history = async (jobId: string) => (await stack.api.jobs.history.query({ id: jobId, limit: 100 })).items
const finishedFirings = async (jobId: string) => (await history(jobId)).filter((f) => f.finishedAt !== null)

function waitForFirings(jobId: string, count: number, timeoutMs = 60_000) {
  return waitUntil(`${count} finished firings of job ${jobId}`, async () => {
    const done = await finishedFirings(jobId)
    return done.length >= count ? done : undefined
  }, timeoutMs, 250)
}

/**
 * Temporal names a firing after the second it was meant for, so two triggers of one job within
 * the same second are one firing: triggers here are at least a second-boundary apart.
 */
let lastTriggerSecond = 0
/** Triggers the job; returns what the API says Temporal does with it. */
async function trigger(id: string, api: Api = stack.api): Promise<string> {
  const now = Date.now()
  if (Math.floor(now / 1000) <= lastTriggerSecond) await new Promise((r) => setTimeout(r, (lastTriggerSecond + 1) * 1000 - now + 50))
  const { outcome } = await api.jobs.trigger.mutate({ id })
  lastTriggerSecond = Math.floor(Date.now() / 1000)
  return outcome
}

const settled = (jobId: string) => settledJob(stack.api, jobId)

const scheduleExists = async (jobId: string) => {
  try {
    await stack.server.services.temporal.schedule.getHandle(`job-${jobId}`).describe()
    return true
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false
    throw err
  }
}

describe('cron preview and validation', () => {
  it('shows the next five firing times Temporal computes, in the job\'s time zone', async () => {
    const { nextFirings } = await stack.api.jobs.preview.query({ cron: '30 2 * * *', timezone: 'Asia/Kolkata' })
    expect(nextFirings).toHaveLength(5)
    // 02:30 in Kolkata (UTC+05:30) is 21:00 UTC the day before, one day apart.
    for (const t of nextFirings) expect(t).toMatch(/T21:00:00(\.000)?Z$/)
    expect(new Date(nextFirings[1]!).getTime() - new Date(nextFirings[0]!).getTime()).toBe(24 * 3600 * 1000)
  })

  it('refuses a bad cron, time zone, test or location naming the field, and stores nothing', async () => {
    const test = await saveTest('v', QUICK)
    const base = { name: 'bad', testIds: [test.id], location: 'us-east', cron: '0 2 * * *' }
    await expect(stack.api.jobs.create.mutate({ ...base, cron: '61 * * * *' })).rejects.toThrow(/^cron: Temporal refused the expression/)
    await expect(stack.api.jobs.create.mutate({ ...base, timezone: 'Mars/Olympus' })).rejects.toThrow('timezone: must be an IANA time zone')
    await expect(stack.api.jobs.create.mutate({ ...base, testIds: [crypto.randomUUID()] })).rejects.toThrow(/testIds\.0: test .* does not exist in this project/)
    await expect(stack.api.jobs.create.mutate({ ...base, location: 'mars-north' })).rejects.toThrow('location: "mars-north" is not a configured location')
    expect((await stack.api.jobs.list.query()).filter((j) => j.name === 'bad')).toEqual([])
  })

  /** An API on the same stack with JOB_MIN_INTERVAL_SECONDS as given (default: unset, 60 s). */
  async function apiWithMinimum(minimum?: string) {
    const server = await createServer(loadApiConfig({ ...stack.env, API_PORT: '0', ...(minimum ? { JOB_MIN_INTERVAL_SECONDS: minimum } : {}) }))
    return { server, api: tokenClient(await server.start(), stack.token) }
  }

  it('refuses a schedule firing more often than JOB_MIN_INTERVAL_SECONDS (60 s by default), and the preview says so', async () => {
    const test = await saveTest('interval', QUICK)
    const { server, api } = await apiWithMinimum()
    try {
      const base = { name: 'too often', testIds: [test.id], location: 'us-east' }
      await expect(api.jobs.create.mutate({ ...base, cron: '*/3 * * * * * *' })).rejects.toThrow(
        'cron: "*/3 * * * * * *" fires every 3 s; jobs may fire at most once every 60 s (JOB_MIN_INTERVAL_SECONDS=60). Choose a schedule whose firings are at least 60 s apart',
      )
      // Judged by the closest two firings, not the usual gap: twice at the start of each hour, 30 s apart.
      await expect(api.jobs.create.mutate({ ...base, cron: '0,30 0 * * * * *' })).rejects.toThrow(/^cron: "0,30 0 \* \* \* \* \*" has firings only 30 s apart \(\S+:00:00\.000Z and \S+:00:30\.000Z\); jobs may fire at most once every 60 s/)
      expect((await api.jobs.list.query()).filter((j) => j.name === 'too often')).toEqual([])

      expect(await api.jobs.preview.query({ cron: '*/3 * * * * * *' })).toMatchObject({ closestIntervalSeconds: 3, minIntervalSeconds: 60, tooFrequent: expect.stringContaining('fires every 3 s') })
      expect(await api.jobs.preview.query({ cron: '*/1 * * * *' })).toMatchObject({ closestIntervalSeconds: 60, minIntervalSeconds: 60, tooFrequent: null })

      // Every minute is exactly the minimum: accepted. Changing it to more often is refused and changes nothing.
      const job = await api.jobs.create.mutate({ ...base, name: 'every minute', cron: '*/1 * * * *', enabled: false })
      await expect(api.jobs.update.mutate({ id: job.id, cron: '*/30 * * * * * *' })).rejects.toThrow(/^cron: "\*\/30 \* \* \* \* \* \*" fires every 30 s/)
      expect((await api.jobs.byId.query({ id: job.id })).cron).toBe('*/1 * * * *')
      await api.jobs.delete.mutate({ id: job.id })
    } finally {
      await server.stop()
    }
  })

  it('finds two firings brought together by a clock change in the job\'s time zone', async () => {
    const test = await saveTest('dst', QUICK)
    const { server, api } = await apiWithMinimum('120')
    try {
      const base = { name: 'dst', testIds: [test.id], location: 'us-east', enabled: false }
      await expect(api.jobs.create.mutate({ ...base, cron: '0,1 * * * *' })).rejects.toThrow(/^cron: "0,1 \* \* \* \*" has firings only 60 s apart .*at most once every 2 min/)
      // 01:00 and 01:59, then four hours later: 59 min apart at the closest, except when New York
      // turns its clocks back and 01:00–01:59 comes twice, a minute after 01:59 of the first pass.
      const cron = '0,59 1,5,9,13,17,21 * * *'
      await expect(api.jobs.create.mutate({ ...base, cron, timezone: 'America/New_York' })).rejects.toThrow(/has firings only 60 s apart \(\S+T05:59:00\.000Z and \S+T06:00:00\.000Z, time zone America\/New_York\)/)
      const utc = await api.jobs.create.mutate({ ...base, cron, timezone: 'UTC' })
      expect(utc.cron).toBe(cron)
      await expect(api.jobs.update.mutate({ id: utc.id, timezone: 'America/New_York' })).rejects.toThrow(/has firings only 60 s apart/)
      await api.jobs.delete.mutate({ id: utc.id })
    } finally {
      await server.stop()
    }
  })
})

describe('a job with a seconds-level schedule', () => {
  it('fires runs linked to the job; pause stops firings, resume restarts them, delete removes the schedule', async () => {
    const test = await saveTest('tick', QUICK)
    const job = await stack.api.jobs.create.mutate({ name: 'every 3 s', testIds: [test.id], location: 'us-east', cron: '*/3 * * * * * *' })
    expect(job.schedule).toMatchObject({ state: 'active' })
    const firings = await waitForFirings(job.id, 2)
    for (const f of firings.slice(0, 2)) {
      expect(f.status).toBe('passed')
      expect(f.runs).toHaveLength(1)
      const run = await stack.api.runs.byId.query({ id: f.runs[0]!.id })
      expect(run).toMatchObject({ testId: test.id, trigger: 'schedule', status: 'passed' })
    }

    const paused = await stack.api.jobs.pause.mutate({ id: job.id })
    expect(paused).toMatchObject({ enabled: false, schedule: { state: 'paused' } })
    // A firing already running may still finish; after that nothing new starts. An absence can
    // only be observed over time: a paused schedule still reports the times it would fire at,
    // so the window ends a second after the second of them.
    await settled(job.id)
    const before = (await history(job.id)).length
    const { schedule } = await stack.api.jobs.byId.query({ id: job.id })
    const wouldFire = ('nextFirings' in schedule ? schedule.nextFirings : []).slice(0, 2).map((t) => Date.parse(t))
    expect(wouldFire).toHaveLength(2)
    await waitUntil('two of the paused schedule\'s times to pass', async () => (Date.now() > wouldFire[1]! + 1000 ? true : undefined), 15_000, 100)
    expect((await history(job.id)).length).toBe(before)

    await stack.api.jobs.resume.mutate({ id: job.id })
    await waitUntil('a firing after resume', async () => ((await history(job.id)).length > before ? true : undefined), 30_000, 250)

    const byId = await stack.api.jobs.byId.query({ id: job.id })
    expect(byId.lastFiring?.status).toBe('passed')
    expect(byId.trend.length).toBeGreaterThanOrEqual(2)
    expect(byId.trend.every((t) => t.status !== 'passed' || t.p95 === null || t.p95 >= 0)).toBe(true)

    // jobs.list finds every job's last firing in one query: paused and settled, it agrees with
    // byId and with the newest finished firing of the history.
    await stack.api.jobs.pause.mutate({ id: job.id })
    await settled(job.id)
    const [finalById, listed, newest] = await Promise.all([
      stack.api.jobs.byId.query({ id: job.id }),
      stack.api.jobs.list.query().then((jobs) => jobs.find((j) => j.id === job.id)),
      finishedFirings(job.id).then((f) => f[0]),
    ])
    expect(listed?.lastFiring).toEqual(finalById.lastFiring)
    expect(finalById.lastFiring).toMatchObject({ id: newest?.id, scheduledAt: newest?.scheduledAt, status: newest?.status })

    await expect(stack.api.tests.delete.mutate({ id: test.id })).rejects.toThrow(/is used by job\(s\) "every 3 s"/)
    await stack.api.jobs.delete.mutate({ id: job.id })
    expect(await scheduleExists(job.id)).toBe(false)
    await expect(stack.api.jobs.byId.query({ id: job.id })).rejects.toThrow(`job ${job.id} does not exist`)
  }, 90_000)
})

describe('limits and updates', () => {
  it('stops after maxFirings, and an update rewrites the schedule', async () => {
    const test = await saveTest('limited', QUICK)
    const job = await stack.api.jobs.create.mutate({ name: 'twice', testIds: [test.id], location: 'us-east', cron: '*/2 * * * * * *', maxFirings: 2 })
    await waitForFirings(job.id, 2)
    // No actions left means Temporal will not fire again, so the history is final once settled.
    expect((await stack.api.jobs.byId.query({ id: job.id })).schedule).toMatchObject({ remainingFirings: 0 })
    await settled(job.id)
    expect(await history(job.id)).toHaveLength(2)

    const other = await saveTest('other', QUICK)
    const updated = await stack.api.jobs.update.mutate({ id: job.id, cron: '0 6 * * 1', timezone: 'America/New_York', overlapPolicy: 'cancel_other', testIds: [other.id, test.id], maxFirings: null })
    expect(updated).toMatchObject({ cron: '0 6 * * 1', timezone: 'America/New_York', overlapPolicy: 'cancel_other', tests: [{ testId: other.id }, { testId: test.id }] })
    const d = await stack.server.services.temporal.schedule.getHandle(`job-${job.id}`).describe()
    expect(d.spec.timezone).toBe('America/New_York')
    expect(d.policies.overlap).toBe('CANCEL_OTHER')
    expect(d.state.remainingActions).toBeUndefined()
    // Mondays at 06:00 in New York: 11:00 UTC in winter, 10:00 in summer.
    for (const t of d.info.nextActionTimes.slice(0, 3)) {
      expect(t.getUTCDay()).toBe(1)
      expect([10, 11]).toContain(t.getUTCHours())
    }
    // The schedule now matches the job: a restarted API finds no drift.
    const restarted = await createServer(loadApiConfig({ ...stack.env, API_PORT: '0' }))
    await restarted.start()
    await restarted.stop()
    expect(restarted.scheduleDrift).toEqual([])
    await expect(stack.api.jobs.update.mutate({ id: job.id, cron: 'every tuesday' })).rejects.toThrow(/^cron: Temporal refused the expression/)
    // A refused update leaves job and schedule as they were.
    expect((await stack.api.jobs.byId.query({ id: job.id })).cron).toBe('0 6 * * 1')
    await stack.api.jobs.delete.mutate({ id: job.id })
  }, 60_000)
})

describe('raw samples', () => {
  it('gives a firing\'s runs the job\'s setting, or each test\'s own when the job has none', async () => {
    const sampled = await stack.api.tests.create.mutate({ name: `sampled ${Date.now()}`, script: QUICK, rawSamples: true })
    const plain = await saveTest('plain', QUICK)
    const job = await stack.api.jobs.create.mutate({ name: 'raw samples', testIds: [sampled.id, plain.id], location: 'us-east', cron: '0 0 1 1 *' })
    expect(job.rawSamples).toBeNull()
    /** Fires the job once and returns its runs, in the job's order. */
    const fire = async () => {
      const before = (await history(job.id)).length
      expect(await trigger(job.id)).toBe('started')
      const done = await waitForFirings(job.id, before + 1)
      await settled(job.id)
      const newest = done.find((f) => !done.some((g) => g.scheduledAt > f.scheduledAt))!
      expect(newest).toMatchObject({ status: 'passed' })
      // With their artifacts attached (the `samples` artifact says whether k6 wrote the stream).
      return waitUntil('the firing\'s runs with their artifacts', async () => {
        const runs = await Promise.all(newest.runs.map((r) => stack.api.runs.byId.query({ id: r.id })))
        return runs.every((r) => !r.artifactsPending && 'summary' in r.artifacts) ? runs : undefined
      }, 30_000, 250)
    }
    const following = await fire()
    expect(following.map((r) => [r.testId, r.rawSamples])).toEqual([[sampled.id, true], [plain.id, false]])
    expect(following.map((r) => 'samples' in r.artifacts)).toEqual([true, false])

    const off = await stack.api.jobs.update.mutate({ id: job.id, rawSamples: false })
    expect(off.rawSamples).toBe(false)
    expect((await stack.api.jobs.list.query()).find((j) => j.id === job.id)?.rawSamples).toBe(false)
    expect((await fire()).map((r) => r.rawSamples)).toEqual([false, false])

    await stack.api.jobs.update.mutate({ id: job.id, rawSamples: true })
    const all = await fire()
    expect(all.map((r) => r.rawSamples)).toEqual([true, true])
    expect(all.map((r) => 'samples' in r.artifacts)).toEqual([true, true])
    await stack.api.jobs.delete.mutate({ id: job.id })
  }, 120_000)
})

describe('a test with files', () => {
  it('gives each firing\'s run the test\'s files and modules as they were when it fired', async () => {
    const sdk = createStampedeClient({ url: stack.apiUrl, token: stack.token })
    const upload = async (users: string[]) =>
      (await uploadFiles(sdk, { files: [{ path: 'data/users.json', content: Buffer.from(JSON.stringify(users)) }, { path: 'lib/name.js', content: Buffer.from("export const name = (u) => 'user ' + u\n") }] })).refs
    // The run passes only if k6 read this firing's files: the module, and the data file it names.
    const script = (expected: string) => `import { check } from 'k6'
import { name } from './lib/name.js'
const users = JSON.parse(open('./data/users.json'))
export const options = { vus: 1, iterations: 1, thresholds: { checks: ['rate==1'] } }
export default function () { check(users, { 'this firing\\'s users': (u) => name(u[0]) === '${expected}' }) }`
    const ada = await upload(['ada'])
    const test = await stack.api.tests.create.mutate({ name: `files ${Date.now()}`, script: script('user ada'), files: ada })
    const job = await stack.api.jobs.create.mutate({ name: 'files', testIds: [test.id], location: 'us-east', cron: '0 0 1 1 *' })
    const fire = async () => {
      const before = (await history(job.id)).length
      expect(await trigger(job.id)).toBe('started')
      const done = await waitForFirings(job.id, before + 1)
      const newest = done.find((f) => !done.some((g) => g.scheduledAt > f.scheduledAt))!
      const run = await stack.api.runs.byId.query({ id: newest.runs[0]!.id })
      expect(run, run.errorMessage ?? '').toMatchObject({ testId: test.id, trigger: 'schedule', status: 'passed', thresholdsPassed: true, metrics: { checksPassed: 1, checksFailed: 0 } })
      return run
    }
    const first = await fire()

    // The test changes its users: the next firing reads the new file, the first run keeps its own.
    const grace = await upload(['grace'])
    await stack.api.tests.update.mutate({ id: test.id, script: script('user grace'), files: grace })
    const second = await fire()
    const filesOf = async (runId: string) => (await stack.api.runs.files.query({ runId })).files.map((f) => ({ path: f.path, sha256: f.sha256 }))
    const byPath = (refs: { path: string; sha256: string }[]) => [...refs].sort((a, b) => a.path.localeCompare(b.path))
    expect(await filesOf(first.id)).toEqual(byPath(ada))
    expect(await filesOf(second.id)).toEqual(byPath(grace))
    await stack.api.jobs.delete.mutate({ id: job.id })
  }, 120_000)
})

describe('overlap policies', () => {
  it('skips a firing while the previous one runs by default, and queues one under buffer_one', async () => {
    const slow = await saveTest('slow', SLOW(4))
    const skip = await stack.api.jobs.create.mutate({ name: 'skip', testIds: [slow.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false })
    expect(skip.overlapPolicy).toBe('skip')
    expect(await trigger(skip.id)).toBe('started')
    await waitUntil('the first firing to run', async () => ((await history(skip.id)).length === 1 ? true : undefined), 20_000, 100)
    // The API says so when a trigger is skipped.
    expect(await trigger(skip.id)).toBe('skipped')
    expect(await trigger(skip.id)).toBe('skipped')
    await waitForFirings(skip.id, 1)
    await settled(skip.id)
    expect(await history(skip.id)).toHaveLength(1)
    expect((await stack.api.jobs.byId.query({ id: skip.id })).schedule).toMatchObject({ skippedOverlap: 2 })

    const buffer = await stack.api.jobs.create.mutate({ name: 'buffer', testIds: [slow.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false, overlapPolicy: 'buffer_one' })
    expect(await trigger(buffer.id)).toBe('started')
    await waitUntil('the first firing to run', async () => ((await history(buffer.id)).length === 1 ? true : undefined), 20_000, 100)
    expect(await trigger(buffer.id)).toBe('queued')
    expect(await trigger(buffer.id)).toBe('queued') // said queued; Temporal's buffer holds one, so it is dropped
    const done = await waitForFirings(buffer.id, 2, 60_000)
    await settled(buffer.id)
    // One buffered behind the running one; the third was dropped (buffer holds one). They never overlap.
    const all = await history(buffer.id)
    expect(all).toHaveLength(2)
    const [second, first] = done
    expect(new Date(second!.startedAt).getTime()).toBeGreaterThanOrEqual(new Date(first!.finishedAt!).getTime() - 1000)
  }, 90_000)
})

describe('cancel_other', () => {
  it('cancels the running firing and its run when the next one comes', async () => {
    const slow = await saveTest('slower', SLOW(8))
    const job = await stack.api.jobs.create.mutate({ name: 'cancel other', testIds: [slow.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false, overlapPolicy: 'cancel_other' })
    await trigger(job.id)
    const first = await waitUntil('the first run to be running', async () => {
      const [f] = await history(job.id)
      return f?.runs[0]?.status === 'running' ? f : undefined
    }, 30_000, 100)
    expect(await trigger(job.id)).toBe('cancelling_running')
    const done = await waitForFirings(job.id, 2, 60_000)
    const cancelled = done.find((f) => f.id === first.id)!
    const next = done.find((f) => f.id !== first.id)!
    expect(cancelled.status).toBe('cancelled')
    expect(cancelled.runs[0]!.status).toBe('cancelled')
    expect(next.status).toBe('passed')
    expect(new Date(next.startedAt).getTime()).toBeGreaterThanOrEqual(new Date(cancelled.finishedAt!).getTime() - 1000)
  }, 90_000)
})

describe('backfill', () => {
  it('fires once for every matching time in a past window', async () => {
    const test = await saveTest('backfill', QUICK)
    const job = await stack.api.jobs.create.mutate({ name: 'backfill', testIds: [test.id], location: 'us-east', cron: '*/10 * * * * * *', enabled: false })
    // A window that holds exactly five matching times: :10, :20, :30, :40, :50 of a past minute.
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000
    await stack.api.jobs.backfill.mutate({ id: job.id, from: new Date(minute + 5000).toISOString(), to: new Date(minute + 55_000).toISOString() })
    const firings = await waitForFirings(job.id, 5, 90_000)
    await settled(job.id)
    expect(await history(job.id)).toHaveLength(5)
    expect(firings.map((f) => new Date(f.scheduledAt).getTime() - minute).sort((a, b) => a - b)).toEqual([10_000, 20_000, 30_000, 40_000, 50_000])
    expect(firings.every((f) => f.status === 'passed' && f.runs.length === 1)).toBe(true)
    await expect(stack.api.jobs.backfill.mutate({ id: job.id, from: new Date(Date.now() + 3600_000).toISOString(), to: new Date(Date.now() + 7200_000).toISOString() })).rejects.toThrow(
      'to: must not be in the future',
    )
  }, 120_000)
})

describe('drift', () => {
  it('repairs and reports drift between the jobs table and Temporal on API start', async () => {
    const test = await saveTest('drift', QUICK)
    const job = await stack.api.jobs.create.mutate({ name: 'drift', testIds: [test.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false })
    const edited = await stack.api.jobs.create.mutate({ name: 'edited', testIds: [test.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false })
    const temporal = stack.server.services.temporal
    await temporal.schedule.getHandle(`job-${job.id}`).delete()
    // Someone edits a schedule in Temporal's UI: other times, and unpaused.
    await temporal.schedule.getHandle(`job-${edited.id}`).update((d) => ({ ...d, spec: { cronExpressions: ['0 5 * * *'] }, state: { paused: false } }))
    await temporal.schedule.create({
      scheduleId: 'job-00000000-0000-4000-8000-000000000000',
      spec: { cronExpressions: ['0 0 1 1 *'] },
      action: { type: 'startWorkflow', workflowType: 'jobFiring', taskQueue: 'stampede', workflowId: 'orphan', args: [{ jobId: '00000000-0000-4000-8000-000000000000' }] },
      state: { paused: true },
    })
    const server = await createServer(loadApiConfig({ ...stack.env, API_PORT: '0' }))
    await server.start()
    try {
      expect(server.scheduleDrift).toEqual([
        `job ${job.id} (drift): schedule was missing; created`,
        `job ${edited.id} (edited): schedule differed (the schedule's times are not those of 0 0 1 1 *; running but paused); updated`,
        'schedule job-00000000-0000-4000-8000-000000000000: its job does not exist; deleted',
      ])
      const repaired = await temporal.schedule.getHandle(`job-${edited.id}`).describe()
      expect(repaired.state.paused).toBe(true)
      expect(repaired.info.nextActionTimes[0]?.toISOString()).toMatch(/-01-01T00:00:00/)
      expect(await scheduleExists(job.id)).toBe(true)
      expect((await stack.api.jobs.byId.query({ id: job.id })).schedule).toMatchObject({ state: 'paused' })
    } finally {
      await server.stop()
    }
  })
})

describe('the project\'s maxConcurrentRuns', () => {
  it('skips a firing whose run would exceed it, with the reason in the history, the job and the webhook', async () => {
    const received: { event: string; firing: { status: string; reason: string | null } }[] = []
    const receiver = createHttpServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        received.push(JSON.parse(body) as (typeof received)[number])
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    try {
      // A project of its own, with room for one run at a time.
      const owner = stack.admin.api
      const project = await owner.projects.create.mutate({ name: `quota ${Date.now()}` })
      const projectId = project.id
      await owner.projects.update.mutate({ projectId, maxConcurrentRuns: 1 })
      const hold = await owner.tests.create.mutate({ projectId, name: 'hold', script: SLOW(60) })
      const quick = await owner.tests.create.mutate({ projectId, name: 'quick', script: QUICK })
      const job = await owner.jobs.create.mutate({
        projectId,
        name: 'quota',
        testIds: [quick.id],
        location: 'us-east',
        cron: '0 0 1 1 *',
        enabled: false,
        webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      })
      const held = await owner.runs.start.mutate({ projectId, testId: hold.id, location: 'us-east' })

      await trigger(job.id, owner)
      const reason = `project "${project.name}" already has 1 run(s) queued or running and allows at most 1 at a time, so test "quick" was not started`
      const [skipped] = await waitUntil('the skipped firing', async () => {
        const { items } = await owner.jobs.history.query({ id: job.id })
        return items[0]?.finishedAt ? items : undefined
      }, 30_000, 100)
      expect(skipped).toMatchObject({ status: 'skipped', reason, runs: [] })
      expect((await owner.jobs.byId.query({ id: job.id })).lastFiring).toMatchObject({ id: skipped!.id, status: 'skipped', reason })
      // A skipped firing ran nothing: the webhook hears of it as a failure.
      await waitUntil('the failure notification', async () => (received.length >= 1 ? true : undefined), 30_000, 100)
      expect(received[0]).toMatchObject({ event: 'failure', firing: { id: skipped!.id, status: 'skipped', reason } })
      expect((await owner.runs.byId.query({ id: held.id })).status).toMatch(/^(queued|running)$/)
      // The only run of the project is the one holding its slot: the skipped firing made none.
      expect((await owner.runs.list.query({ projectId })).items.map((r) => r.id)).toEqual([held.id])

      // With the slot free again the next firing runs, and recovers.
      await owner.runs.cancel.mutate({ id: held.id })
      await waitUntil('the held run to end', async () => ((await owner.runs.byId.query({ id: held.id })).status === 'cancelled' ? true : undefined), 30_000, 100)
      await settledJob(owner, job.id)
      await trigger(job.id, owner)
      const [passed] = await waitUntil('the next firing', async () => {
        const { items } = await owner.jobs.history.query({ id: job.id })
        return items.length === 2 && items[0]?.finishedAt ? items : undefined
      }, 60_000, 100)
      expect(passed).toMatchObject({ status: 'passed', reason: null, runs: [{ testId: quick.id, status: 'passed' }] })
      await waitUntil('the recovery notification', async () => (received.length >= 2 ? true : undefined), 30_000, 100)
      expect(received[1]).toMatchObject({ event: 'recovery', firing: { status: 'passed', reason: null } })
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()))
    }
  }, 120_000)
})

describe('run gates on scheduled firings', () => {
  // A firing's runs pass the same gates as runs.start (createRun): here the project's VU cap,
  // lowered after the job was saved, refuses the script k6 says needs more VUs.
  it('skips a firing whose test breaks a lowered project cap, with the reason, and starts no run', async () => {
    const owner = stack.admin.api
    const project = await owner.projects.create.mutate({ name: `caps ${Date.now()}` })
    const projectId = project.id
    const heavy = await owner.tests.create.mutate({ projectId, name: 'heavy', script: `export const options = { vus: 3, iterations: 3 }\nexport default function () {}` })
    const quick = await owner.tests.create.mutate({ projectId, name: 'quick', script: QUICK })
    const job = await owner.jobs.create.mutate({ projectId, name: 'caps', testIds: [heavy.id, quick.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false })
    await owner.projects.update.mutate({ projectId, maxVus: 2 })

    await trigger(job.id, owner)
    const [skipped] = await waitUntil('the skipped firing', async () => {
      const { items } = await owner.jobs.history.query({ id: job.id })
      return items[0]?.finishedAt ? items : undefined
    }, 60_000, 100)
    const reason =
      'test "heavy" (1 of 2) was not started, nor the test after it: its script has an error: 1:1 too-many-vus: The script needs up to 3 VUs; this project allows at most 2. Lower vus, stage targets or maxVUs to 2 or fewer. ' +
      "Or ask a project admin to raise the project's maxVus / maxDurationSeconds (up to the platform's MAX_VUS / MAX_DURATION_SECONDS)."
    expect(skipped).toMatchObject({ status: 'skipped', reason, runs: [] })
    expect((await owner.jobs.byId.query({ id: job.id })).lastFiring).toMatchObject({ id: skipped!.id, status: 'skipped', reason })
    // No run of either test was made.
    expect((await owner.runs.list.query({ projectId })).items).toEqual([])

    // With the cap raised again the next firing runs both tests.
    await owner.projects.update.mutate({ projectId, maxVus: 3 })
    await settledJob(owner, job.id)
    await trigger(job.id, owner)
    const [passed] = await waitUntil('the next firing', async () => {
      const { items } = await owner.jobs.history.query({ id: job.id })
      return items.length === 2 && items[0]?.finishedAt ? items : undefined
    }, 90_000, 100)
    expect(passed).toMatchObject({ status: 'passed', reason: null, runs: [{ testId: heavy.id, status: 'passed' }, { testId: quick.id, status: 'passed' }] })
  }, 180_000)
})

describe('webhooks', () => {
  interface Received {
    headers: Record<string, string | string[] | undefined>
    body: string
  }
  let receiver: Server
  let receiverUrl: string
  const received: Received[] = []
  let failNext = 0

  beforeAll(async () => {
    receiver = createHttpServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        received.push({ headers: req.headers, body })
        if (failNext > 0) {
          failNext--
          res.writeHead(500).end('try again')
        } else res.writeHead(204).end()
      })
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
  })
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())))

  const verify = (secret: string, r: Received) =>
    r.headers['x-stampede-signature'] === `sha256=${createHmac('sha256', secret).update(`${String(r.headers['x-stampede-timestamp'])}.${r.body}`).digest('hex')}`

  it('sends signed failure and recovery notifications, and retries a failing receiver with backoff', async () => {
    const script = `import { check } from 'k6'
      export const options = { vus: 1, iterations: 1, thresholds: { checks: ['rate==1'] } }
      export default function () { check(null, { 'mode is pass': () => __ENV.MODE !== 'fail' }) }`
    const test = await saveTest('hooked', script, [{ name: 'MODE', value: 'fail' }])
    const job = await stack.api.jobs.create.mutate({ name: 'hooked', testIds: [test.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false, webhookUrl: receiverUrl, notifyOn: ['failure', 'recovery'] })
    const secret = job.webhookSecret!
    expect(secret).toMatch(/^whsec_/)
    expect(JSON.stringify(await stack.api.jobs.byId.query({ id: job.id }))).not.toContain(secret)

    await trigger(job.id)
    await waitUntil('the failure notification', async () => (received.length >= 1 ? true : undefined), 60_000, 100)
    const failure = JSON.parse(received[0]!.body) as { event: string; job: { id: string }; firing: { status: string }; runs: { status: string; link: string }[] }
    expect(failure).toMatchObject({ event: 'failure', job: { id: job.id }, firing: { status: 'failed' }, runs: [{ status: 'failed' }] })
    expect(received[0]!.headers['x-stampede-event']).toBe('failure')
    expect(verify(secret, received[0]!)).toBe(true)
    expect(verify('whsec_wrong', received[0]!)).toBe(false)

    await stack.api.tests.update.mutate({ id: test.id, variables: [{ name: 'MODE', value: 'pass' }] })
    // The job skips a firing while one runs, and a notification can arrive before its firing
    // has ended: each trigger waits until Temporal reports none running.
    await settled(job.id)
    await trigger(job.id)
    await waitUntil('the recovery notification', async () => (received.length >= 2 ? true : undefined), 60_000, 100)
    expect(JSON.parse(received[1]!.body)).toMatchObject({ event: 'recovery', firing: { status: 'passed' } })
    expect(verify(secret, received[1]!)).toBe(true)

    // A passing firing after a pass is not news.
    await settled(job.id)
    await trigger(job.id)
    const [third] = await waitForFirings(job.id, 3)
    // A notification's workflow is started before its firing ends: none exists for this one.
    for (const event of ['failure', 'recovery', 'firing']) {
      await expect(stack.server.services.temporal.workflow.getHandle(`notify-${third!.id}-${event}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError)
    }
    expect(received).toHaveLength(2)

    // A receiver that fails twice gets it on the third attempt.
    await stack.api.tests.update.mutate({ id: test.id, variables: [{ name: 'MODE', value: 'fail' }] })
    failNext = 2
    await settled(job.id)
    await trigger(job.id)
    await waitUntil('three delivery attempts', async () => (received.length >= 5 ? true : undefined), 60_000, 100)
    const attempts = received.slice(2)
    expect(new Set(attempts.map((r) => r.headers['x-stampede-delivery'])).size).toBe(1)
    expect(attempts.every((r) => verify(secret, r))).toBe(true)
    const log = await waitUntil('the delivery log', async () => {
      const d = await stack.api.jobs.deliveries.query({ id: job.id })
      return d.length >= 5 ? d : undefined
    }, 10_000, 100)
    const last = log.filter((d) => d.firingId === log[0]!.firingId).reverse()
    expect(last.map((d) => [d.attempt, d.statusCode, d.ok])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 204, true],
    ])
    // Retries run on their own: the firing had ended before the delivery got through, so a
    // failing webhook never holds the schedule's next firings back.
    const firing = (await history(job.id)).find((f) => f.id === log[0]!.firingId)!
    expect(new Date(firing.finishedAt!).getTime()).toBeLessThan(new Date(last[2]!.at).getTime())
  }, 120_000)
})

// Last: it replaces the stack's API server.
describe('restarts', () => {
  it('loses no firing and makes no duplicate run when the API and the runner restart mid-run', async () => {
    const a = await saveTest('first', SLOW(3))
    const b = await saveTest('second', QUICK)
    const job = await stack.api.jobs.create.mutate({ name: 'restart', testIds: [a.id, b.id], location: 'us-east', cron: '0 0 1 1 *', enabled: false })
    await trigger(job.id)
    const running = await waitUntil('the first run to be running', async () => {
      const [f] = await history(job.id)
      const run = f?.runs[0]
      return run?.status === 'running' ? run : undefined
    }, 30_000, 100)

    // The API goes away and comes back on the same database and Temporal.
    const oldServer: ApiServer = stack.server
    await oldServer.stop()
    const server = await createServer(loadApiConfig({ ...stack.env, API_PORT: '0' }))
    const url = await server.start()
    expect(server.scheduleDrift).toEqual([])
    // The runner too: it stops (letting the short k6 run finish) and a new one starts.
    const [first] = stack.runners
    await first!.shutdown()
    await stack.startRunner()
    try {
      const api = tokenClient(url, stack.token)
      const [firing] = await waitUntil('the firing to finish', async () => {
        const items = (await api.jobs.history.query({ id: job.id })).items
        return items[0]?.finishedAt ? items : undefined
      }, 60_000, 250)
      expect(firing).toMatchObject({ status: 'passed' })
      expect(firing!.runs.map((r) => r.testId)).toEqual([a.id, b.id])
      expect(firing!.runs[0]!.id).toBe(running.id)
      const runsOfJob = (await api.runs.list.query({ limit: 200 })).items.filter((r) => r.jobId === job.id)
      expect(runsOfJob).toHaveLength(2)
    } finally {
      // The last test of the file: the stack's own cleanup stops the new runner and the old server.
      await server.stop()
    }
  }, 120_000)
})
