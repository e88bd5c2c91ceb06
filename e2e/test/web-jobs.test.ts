// The jobs pages in a real browser (Debian's Chromium driven by playwright-core) against the real
// stack, with Temporal's own schedules and the real runner and k6: a job made in the form with a
// schedule Temporal previews as it is typed, firing every 5 s until paused, triggered by hand and
// deleted; a schedule firing more often than the API's minimum is refused in the form, and a
// firing the project's maxConcurrentRuns leaves no room for shows as skipped, with the reason.
// STAMPEDE_SCREENSHOTS=1 also writes docs/screenshots/jobs-{list,form,page}.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { scheduleIdFor } from '@stampede/shared/temporal-names'
import { settled } from '../src/jobs.ts'
import { ADMIN, type Stack } from '../src/stack.ts'
import { waitUntil } from '../src/wait.ts'
import { screenshot, SCREENSHOTS, startWebStack, type WebServer, type WebStack } from '../src/web.ts'


/** One quick request to the API's own /healthz, so every run has a p95 and a request rate to chart. */
const quickScript = (apiUrl: string) => `import http from 'k6/http'
export const options = { vus: 1, iterations: 1 }
export default function () { http.get('${apiUrl}/healthz') }`
const TEST_NAME = 'quick check'
const JOB_NAME = 'every 5 s'

let stack: Stack
let web: WebServer
let browser: Browser

let webStack: WebStack | undefined

beforeAll(async () => {
  // Firings every 5 s keep the test short; the default minimum between firings is 60 s.
  webStack = await startWebStack({ api: { JOB_MIN_INTERVAL_SECONDS: '5' } })
  ;({ stack, web, browser } = webStack)
  await stack.api.tests.create.mutate({ name: TEST_NAME, script: quickScript(stack.apiUrl) })
})

afterAll(async () => {
  await webStack?.stop()
})

async function signedInAdmin(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, timezoneId: 'Europe/Berlin' })
  const page = await context.newPage()
  await page.goto(`${web.url}/login`)
  await page.getByLabel('Email').fill(ADMIN.email)
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${web.url}/`)
  await page.getByLabel('Project').waitFor()
  return page
}

/** The instants (ms) the form's "Next five firings" list shows, once it shows five. */
async function previewTimes(page: Page): Promise<number[]> {
  const list = page.getByRole('list', { name: 'Next five firings' })
  await list.locator('li').nth(4).waitFor()
  const times = await list.locator('time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime') ?? ''))
  return times.map((t) => Date.parse(t))
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!)

describe('jobs in the browser', () => {
  it('creates a job with a previewed schedule, shows its firings and runs, pauses, triggers and deletes it', async () => {
    const page = await signedInAdmin()
    await page.getByRole('link', { name: 'Jobs', exact: true }).click()
    await page.waitForURL(`${web.url}/jobs`)
    await page.getByText('No jobs in this project yet.').waitFor()

    // The form: a test from the project, a preset said in words, Temporal's next five firings.
    await page.getByRole('link', { name: 'New job' }).first().click()
    await page.waitForURL(`${web.url}/jobs/new`)
    await page.getByLabel('Name').fill(JOB_NAME)
    await page.getByLabel('Add a test').selectOption({ label: TEST_NAME })
    await page.getByRole('button', { name: 'Add test' }).click()
    await page.getByRole('list', { name: 'Tests of this job' }).getByText(TEST_NAME).waitFor()
    expect(await page.getByLabel('Time zone').inputValue()).toBe('Europe/Berlin') // the browser's zone

    await page.getByLabel('Schedule', { exact: true }).selectOption({ label: 'Weekdays at 09:00' })
    expect(await page.getByLabel('Cron expression').inputValue()).toBe('0 9 * * 1-5')
    await page.getByText('At 09:00, Monday through Friday').waitFor()
    // The words follow the field at once; Temporal's preview comes from the API and replaces the
    // previous preset's times when it arrives.
    const berlin = (t: number) => new Date(t).toLocaleString('en-US', { timeZone: 'Europe/Berlin', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    const weekdays = await waitUntil('the preview of weekdays at 09:00', async () => {
      const times = await previewTimes(page)
      return times.every((t) => /^(Mon|Tue|Wed|Thu|Fri) 09:00$/.test(berlin(t))) ? times : undefined
    }, 15_000, 200)
    expect(weekdays).toHaveLength(5)

    // A custom seconds-level expression: the words and Temporal's times follow it.
    await page.getByLabel('Schedule', { exact: true }).selectOption({ label: 'Custom cron expression' })
    await page.getByLabel('Cron expression').fill('*/5 * * * * * *')
    await page.getByText('Every 5 seconds').waitFor()
    const everyFive = await waitUntil('the preview of */5 s', async () => {
      const times = await previewTimes(page)
      return gaps(times).every((g) => g === 5000) ? times : undefined
    }, 15_000, 200)
    expect(everyFive[0]! % 5000).toBe(0)

    // A bad expression: Temporal's refusal under the field, and no saving.
    const create = page.getByRole('button', { name: 'Create job' })
    await page.getByLabel('Cron expression').fill('61 * * * *')
    await page.getByRole('alert').filter({ hasText: 'Temporal refused the expression' }).waitFor()
    expect(await create.isDisabled()).toBe(true)
    expect(await page.getByLabel('Cron expression').getAttribute('aria-invalid')).toBe('true')

    // More often than the API's minimum: refused under the field, its times still shown.
    await page.getByLabel('Cron expression').fill('*/2 * * * * * *')
    await page.getByRole('alert').filter({ hasText: '"*/2 * * * * * *" fires every 2 s; jobs may fire at most once every 5 s' }).waitFor()
    expect(await create.isDisabled()).toBe(true)
    expect(gaps(await previewTimes(page)).every((g) => g === 2000)).toBe(true)

    await page.getByLabel('Cron expression').fill('*/5 * * * * * *')
    await page.getByRole('list', { name: 'Next five firings' }).locator('li').nth(4).waitFor()
    await waitUntil('Create job to be enabled', async () => ((await create.isEnabled()) ? true : undefined), 15_000, 100)
    await screenshot(page, 'jobs-form', { fullPage: true })
    await create.click()

    // The job page: active, with Temporal's next firings, then a firing whose run passed.
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/)
    const jobId = new URL(page.url()).pathname.split('/').at(-1)!
    await page.getByRole('heading', { name: JOB_NAME }).waitFor()
    await page.getByText('Active', { exact: true }).waitFor()
    await page.getByRole('list', { name: 'Next firings' }).locator('li').first().waitFor()
    const passedRun = page.locator('tr[data-firing-id]').getByRole('link', { name: /: passed$/ }).first()
    await passedRun.waitFor({ timeout: 45_000 })
    const runHref = await passedRun.getAttribute('href')
    expect(runHref).toMatch(/^\/runs\/[0-9a-f-]{36}$/)
    const runId = runHref!.split('/').at(-1)!
    expect((await stack.api.runs.byId.query({ id: runId })).jobId).toBe(jobId)

    await passedRun.click()
    await page.waitForURL(`${web.url}${runHref}`)
    await page.getByRole('heading', { name: `Run ${runId}` }).waitFor()
    await page.goBack()
    await page.waitForURL(`${web.url}/jobs/${jobId}`)
    await page.locator('tr[data-firing-id]').first().waitFor()
    await page.getByRole('img', { name: /^Trend over \d+ runs?: p95 from / }).waitFor()

    // The list: schedule in words and cron, next firing, last outcome, state.
    await page.getByRole('link', { name: '← All jobs' }).click()
    await page.waitForURL(`${web.url}/jobs`)
    const row = page.locator(`tr[data-job-id="${jobId}"]`)
    await row.getByText('Passed').waitFor()
    for (const text of [JOB_NAME, 'Every 5 seconds', '*/5 * * * * * *', 'Europe/Berlin', 'Active']) await row.getByText(text).first().waitFor()
    await screenshot(page, 'jobs-list', { fullPage: true })
    await row.getByRole('link', { name: JOB_NAME }).click()
    await page.waitForURL(`${web.url}/jobs/${jobId}`)
    await page.locator('tr[data-firing-id]').first().waitFor()
    if (SCREENSHOTS) await page.getByRole('img', { name: /^Trend over ([3-9]|\d{2,}) runs:/ }).waitFor({ timeout: 30_000 }) // a trend worth a picture
    await screenshot(page, 'jobs-page', { fullPage: true })

    // Pause: the schedule stops; a firing that had started may still end.
    await page.getByRole('button', { name: 'Pause' }).click()
    await page.getByText('Paused', { exact: true }).waitFor()
    expect((await stack.api.jobs.byId.query({ id: jobId })).schedule).toMatchObject({ state: 'paused' })
    // Under the default overlap policy (skip) a trigger while a firing runs is skipped.
    await settled(stack.api, jobId, 30_000)

    // Trigger now while the project's only run slot is taken: a new firing, scheduled now, shows
    // in the history as skipped, saying why.
    await stack.api.projects.update.mutate({ projectId: stack.projectId, maxConcurrentRuns: 1 })
    const held = await stack.api.runs.start.mutate({ script: `import { sleep } from 'k6'\nexport const options = { vus: 1, iterations: 1 }\nexport default function () { sleep(60) }`, location: 'us-east' })
    // The firings recorded so far: one the schedule fired just before the pause may still be
    // recorded after the trigger, so the triggered one is the newest firing not among these.
    const known = new Set((await stack.api.jobs.history.query({ id: jobId, limit: 100 })).items.map((f) => f.id))
    const triggeredAt = Date.now()
    await page.getByRole('button', { name: 'Trigger now' }).click()
    await page.getByText('Started: the firing runs now.').waitFor()
    const firing = await waitUntil('the triggered firing', async () => {
      const { items } = await stack.api.jobs.history.query({ id: jobId, limit: 5 })
      const fresh = items.filter((f) => !known.has(f.id) && Date.parse(f.scheduledAt) >= triggeredAt - 1000)
      return fresh.sort((a, b) => Date.parse(b.scheduledAt) - Date.parse(a.scheduledAt))[0]
    }, 30_000, 250).catch(async (err: Error) => {
      // Seen once in CI and not reproduced since: say what Temporal and the history held then.
      const schedule = await stack.server.services.temporal.schedule.getHandle(scheduleIdFor(jobId)).describe()
      const { items } = await stack.api.jobs.history.query({ id: jobId, limit: 10 })
      throw new Error(`${err.message}; triggered at ${new Date(triggeredAt).toISOString()}; Temporal: ${JSON.stringify({ info: schedule.info, state: schedule.state })}; firings (newest first; known: recorded before the trigger): ${JSON.stringify(items.map((f) => ({ ...f, known: known.has(f.id) })))}`)
    })
    const firingRow = page.locator(`tr[data-firing-id="${firing.id}"]`)
    await firingRow.waitFor({ timeout: 15_000 })
    await firingRow.getByText('Skipped', { exact: true }).waitFor({ timeout: 15_000 })
    await firingRow.getByText(/already has 1 run\(s\) queued or running and allows at most 1 at a time, so test "quick check" was not started/).waitFor()
    await firingRow.getByText('no run started').waitFor()
    await page.getByText('Paused', { exact: true }).waitFor()
    await stack.api.runs.cancel.mutate({ id: held.id })
    await stack.api.projects.update.mutate({ projectId: stack.projectId, maxConcurrentRuns: 50 })

    // Delete, confirmed in place: back to the list, without the job.
    await page.getByRole('button', { name: 'Delete', exact: true }).click()
    await page.getByRole('button', { name: 'Delete job' }).click()
    await page.waitForURL(`${web.url}/jobs`)
    await page.getByText('No jobs in this project yet.').waitFor()
    expect(await page.locator(`tr[data-job-id="${jobId}"]`).count()).toBe(0)
    await expect(stack.api.jobs.byId.query({ id: jobId })).rejects.toThrow(/does not exist/)
  }, 90_000)
})
