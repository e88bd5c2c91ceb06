// The web UI's main path in a real browser (Debian's Chromium driven by playwright-core)
// against the real stack, whose runner runs real k6 against a target on 127.0.0.1: write a
// script in the playground from a template, validate it (and see an error land on its line),
// save it as a test, run it from a picked location, watch the console stream, see the results
// and the report appear without a reload, cancel a long run, and find both runs in the test's
// history; and a viewer's playground is read-only. STAMPEDE_SCREENSHOTS=1 also writes
// docs/screenshots/{playground,run-live,run-finished}.png.
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { sessionClient } from '../src/clients.ts'
import { ADMIN, type Stack } from '../src/stack.ts'
import type { Target } from '../src/target.ts'
import { screenshot, signIn, startWebStackWithTarget, type WebServer, type WebStackWithTarget } from '../src/web.ts'

const TEST_NAME = 'Smoke against the local target'

let stack: Stack
let web: WebServer
let browser: Browser
let target: Target
let webStack: WebStackWithTarget | undefined

beforeAll(async () => {
  webStack = await startWebStackWithTarget()
  ;({ stack, web, browser, target } = webStack)
})

afterAll(async () => {
  await webStack?.stop()
})

/** Replaces the editor's whole text as a person pasting would (select all, then insert). */
async function setScript(page: Page, script: string): Promise<void> {
  await page.locator('.cm-content').click()
  await page.keyboard.press('Control+A')
  await page.keyboard.insertText(script)
}

/** The smoke template aimed at the local target, shorter, logging each iteration. */
function localSmoke(template: string, duration: string): string {
  const script = template
    .replace('https://quickpizza.grafana.com', target.url)
    .replace("duration: '10s'", `duration: '${duration}'`)
    .replace("check(res, { 'status is 200': (r) => r.status === 200 })", '$&\n  console.log(`iteration ${__ITER}: status ${res.status}`)')
  // Each replacement must have found its text, or the test would run something else.
  expect(script).toContain(target.url)
  expect(script).toContain(`duration: '${duration}'`)
  expect(script).toContain('console.log(`iteration')
  return script
}

describe('the playground, a live run and its results', () => {
  it('validates, saves and runs a script, streams its console, shows results and the report without a reload, cancels a long run, and lists both in the test history', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
    const page = await context.newPage()
    await signIn(page, web.url, ADMIN)

    // — Playground: a template, aimed at the local target.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Playground' }).click()
    await page.waitForURL(`${web.url}/playground`)
    await page.getByLabel('Start from a template').selectOption('smoke')
    await expect.poll(() => page.getByLabel('Test name').inputValue()).toBe('Smoke test')
    await page.locator('.cm-content', { hasText: 'quickpizza.grafana.com' }).waitFor()
    const template = (await stack.api.templates.byId.query({ id: 'smoke' })).script
    const good = localSmoke(template, '6s')
    await setScript(page, good)

    await page.getByRole('button', { name: 'Validate' }).click()
    await page.getByText('No problems found.').waitFor()

    // An npm import is refused at its line, in the list and in the editor.
    const lines = good.split('\n')
    const at = lines.findIndex((l) => l.startsWith("import { check, sleep } from 'k6'")) + 1
    expect(at).toBeGreaterThan(1)
    const broken = [...lines.slice(0, at), "import _ from 'lodash'", ...lines.slice(at)].join('\n')
    await setScript(page, broken)
    await page.keyboard.press('Control+S') // the validate shortcut, from inside the editor
    const finding = page.getByRole('list', { name: 'Problems' }).getByRole('button').filter({ hasText: '"lodash" is an npm package' })
    await finding.waitFor()
    expect(await finding.textContent()).toContain(`line ${at + 1}:15`)
    await page.locator('.cm-lint-marker-error').first().waitFor()
    const underline = page.locator('.cm-lintRange-error')
    expect(await underline.count()).toBe(1)
    expect(await underline.textContent()).toBe("'lodash'") // the module name, the part to change
    await finding.click() // puts the cursor on the finding's line
    expect(await page.locator('.cm-activeLine').textContent()).toBe("import _ from 'lodash'")

    // k6 hints: after `http.` the editor offers k6/http's functions, from @types/k6.
    await page.keyboard.press('Control+End')
    await page.keyboard.press('Enter')
    await page.keyboard.type('http.')
    const completions = page.locator('.cm-tooltip-autocomplete')
    await completions.getByText('get', { exact: true }).waitFor()
    await completions.getByText('batch', { exact: true }).waitFor()
    await screenshot(page, 'playground')
    await page.keyboard.press('Escape')

    await setScript(page, good)
    await page.keyboard.press('Control+S')
    await page.getByText('No problems found.').waitFor()
    expect(await page.locator('.cm-lintRange-error').count()).toBe(0)

    // — Save as a test: the address names it afterwards.
    await page.getByLabel('Test name').fill(TEST_NAME)
    await page.getByRole('button', { name: 'Save as test' }).click()
    await page.getByRole('status').filter({ hasText: `Saved “${TEST_NAME}”.` }).waitFor()
    await page.waitForURL((url) => url.pathname === '/playground' && url.searchParams.has('test'))
    const testId = new URL(page.url()).searchParams.get('test')!
    expect((await stack.api.tests.byId.query({ id: testId })).script).toBe(good)

    // — Run it from a picked location; the page follows the run.
    const euCentral = page.getByRole('radio', { name: /EU Central/ })
    await page.locator('label', { has: euCentral }).getByText('runner available').waitFor()
    await euCentral.check()
    await page.getByText('Runs the saved test').waitFor()
    await page.getByRole('button', { name: 'Run', exact: true }).click()
    await page.waitForURL((url) => url.pathname.startsWith('/runs/'))
    const runId = new URL(page.url()).pathname.split('/').pop()!
    await page.evaluate('window.__samePage = true') // survives only if nothing reloads the page

    await page.getByRole('heading', { name: `Run ${runId}` }).waitFor()
    await page.locator('.status-line .badge', { hasText: 'EU Central' }).waitFor()
    await page.locator('.status', { hasText: 'Running' }).waitFor({ timeout: 30_000 })
    const consoleLines = page.locator('.console .line')
    await consoleLines.filter({ hasText: 'iteration 0: status 200' }).waitFor()
    // Lines keep arriving while the run is still running: the console is live.
    await consoleLines.filter({ hasText: 'iteration 2: status 200' }).waitFor()
    expect(await page.locator('.status', { hasText: 'Running' }).count()).toBe(1)
    expect(await page.getByText('Running for').count()).toBe(1)
    // The live charts gain a point a second while the run goes.
    const loadChart = page.locator('figure[data-chart="Load"]')
    const chartPoints = async () => Number(await loadChart.getAttribute('data-points'))
    await expect.poll(chartPoints, { timeout: 20_000 }).toBeGreaterThanOrEqual(2)
    const pointsWhileRunning = await chartPoints()
    await expect.poll(chartPoints, { timeout: 20_000 }).toBeGreaterThan(pointsWhileRunning)
    expect(await page.locator('.run-metrics[data-live="true"]').count()).toBe(1)
    await screenshot(page, 'run-live')

    // — When k6 ends: results with thresholds and the report, on the same page.
    await page.getByRole('heading', { name: 'Results' }).waitFor({ timeout: 60_000 })
    await page.locator('.status', { hasText: 'Passed' }).waitFor()
    expect(await page.evaluate('window.__samePage')).toBe(true)
    const thresholds = page.getByRole('table', { name: 'Thresholds' })
    for (const metric of ['checks', 'http_req_duration', 'http_req_failed']) await thresholds.getByRole('row').filter({ hasText: metric }).filter({ hasText: 'passed' }).waitFor()
    expect(await page.locator('.metric', { hasText: 'p50' }).locator('dd').first().textContent()).toMatch(/ms$/)
    expect(await page.locator('.metric', { hasText: 'Checks passed' }).locator('dd').first().textContent()).toMatch(/^(\d+) \/ \1$/)
    expect(target.count).toBeGreaterThanOrEqual(3)
    const report = page.locator('iframe[title="k6 HTML report"]')
    await report.waitFor()
    expect(await report.getAttribute('sandbox')).toBe('allow-scripts')
    expect((await report.boundingBox())?.height).toBeGreaterThan(300)
    await page.frameLocator('iframe[title="k6 HTML report"]').getByText('Overview', { exact: true }).waitFor() // k6's own report, rendered
    await page.getByRole('button', { name: /Download Summary/ }).waitFor()
    await page.getByRole('button', { name: /Download Console log/ }).waitFor()
    await page.getByRole('button', { name: /Download Metrics/ }).waitFor()
    // The finished run's charts hold every period the run stored, and a row per request name.
    const storedLink = await stack.api.runs.artifactUrl.query({ runId, name: 'metrics' })
    const storedFrames = gunzipSync(Buffer.from(await (await fetch(storedLink.url)).arrayBuffer())).toString('utf8').split('\n').filter((l) => l !== '')
    await expect.poll(chartPoints, { timeout: 10_000 }).toBe(storedFrames.length)
    for (const title of ['Latency', 'Failures and checks']) expect(Number(await page.locator(`figure[data-chart="${title}"]`).getAttribute('data-points'))).toBe(storedFrames.length)
    const requests = page.getByRole('table', { name: 'Requests by name' })
    const requestRow = requests.getByRole('row').filter({ hasText: target.url }).first()
    await requestRow.waitFor()
    // …and agree with the stored series (runs.metrics): the row's requests are the tagged series' count.
    const tagged = await stack.api.runs.metrics.query({ runId, metrics: ['http_reqs'], tagged: true })
    const rowName = (await requestRow.locator('td code').textContent())!.replace(/^GET /, '')
    const storedRequests = tagged.series.filter((x) => x.tags?.name === rowName).reduce((n, x) => n + x.total.count, 0)
    expect(storedRequests).toBeGreaterThan(0)
    expect(await requestRow.locator('td').nth(1).textContent()).toBe(String(storedRequests))
    await screenshot(page, 'run-finished', { height: 2000 })

    // — A long version of the test, saved and started, then cancelled from its page.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Playground' }).click()
    await page.getByText(`Test: ${TEST_NAME} · saved`).waitFor() // the tab's draft came back
    await setScript(page, localSmoke(template, '60s'))
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.getByText('Runs the saved test').waitFor()
    await page.keyboard.press('Control+Enter') // the run shortcut
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(runId))
    await page.locator('.status', { hasText: 'Running' }).waitFor({ timeout: 30_000 })
    await page.locator('.console .line', { hasText: 'iteration 0: status 200' }).waitFor()
    // The locations page, in a second tab, counts it as running where it runs.
    const locationsTab = await page.context().newPage()
    await locationsTab.goto(`${web.url}/locations`)
    const euCentralRow = locationsTab.getByRole('row').filter({ hasText: 'eu-central' })
    await expect.poll(() => euCentralRow.getByRole('link', { name: /^Running runs in/ }).textContent(), { timeout: 10_000 }).toBe('1')
    expect(await euCentralRow.getByRole('link', { name: /^Queued runs in/ }).textContent()).toBe('0')
    await locationsTab.close()
    await page.getByRole('button', { name: 'Cancel run' }).click()
    await page.locator('.status', { hasText: 'Cancelled' }).waitFor({ timeout: 30_000 })
    await page.getByText('Cancelled: the run was stopped before it finished.').waitFor()

    // — The tests page and the test's history.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tests' }).click()
    const row = page.getByRole('row').filter({ hasText: TEST_NAME })
    await row.getByText('Cancelled').waitFor()
    await row.getByRole('link', { name: TEST_NAME }).click()
    await page.waitForURL(`${web.url}/tests/${testId}`)
    const history = page.getByRole('table', { name: 'Runs of this test' })
    await history.getByRole('row').nth(2).waitFor()
    const statuses = await history.locator('tbody .status').allTextContents()
    expect(statuses).toEqual(['Cancelled', 'Passed'])
    expect(await history.locator('tbody tr').first().textContent()).toContain('eu-central')
    await page.getByRole('img', { name: /Trend over 2 runs/ }).waitFor()

    // — The runs list, filtered by status, and a narrow screen that scrolls tables, not the page.
    await page.goto(`${web.url}/?status=cancelled`)
    const filtered = page.getByRole('table', { name: 'Latest runs' })
    await filtered.locator('tbody tr').first().waitFor()
    expect(await filtered.locator('tbody .status').allTextContents()).toEqual(['Cancelled'])
    expect(await page.getByLabel('Status').inputValue()).toBe('cancelled')
    await page.setViewportSize({ width: 390, height: 800 })
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Locations' }).click()
    await page.getByRole('table', { name: 'Locations' }).getByText('runner available').first().waitFor()
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390)

    await context.close()
  })

  it('gives a viewer a read-only playground: the script can be read and validated, not saved or run', async () => {
    const viewer = { email: 'vic@stampede.test', password: 'a long enough password' }
    const { invitationToken } = await stack.admin.api.members.add.mutate({ projectId: stack.projectId, email: viewer.email, role: 'viewer' })
    await sessionClient(stack.apiUrl).api.auth.acceptInvite.mutate({ token: invitationToken!, name: 'Vic Viewer', password: viewer.password })

    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
    const page = await context.newPage()
    await signIn(page, web.url, viewer)
    await page.goto(`${web.url}/playground?template=smoke`)
    await page.locator('.cm-content', { hasText: 'quickpizza.grafana.com' }).waitFor()
    await page.getByText('Read-only: your role in Default (viewer)').waitFor()
    expect(await page.locator('.cm-content').getAttribute('aria-readonly')).toBe('true')
    await page.locator('.cm-content').click()
    await page.keyboard.type('typed by a viewer')
    expect(await page.locator('.cm-content').textContent()).not.toContain('typed by a viewer')
    expect(await page.getByRole('button', { name: 'Run', exact: true }).count()).toBe(0)
    expect(await page.getByRole('button', { name: /^Save/ }).count()).toBe(0)
    await page.keyboard.press('Control+S')
    await page.getByText(/No problems found|No errors/).waitFor()
    await context.close()
  })
})
