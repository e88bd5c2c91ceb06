// Tests with files in the web UI, in a real browser (Debian's Chromium driven by playwright-core)
// against the real stack, whose runner runs real k6 against a target on 127.0.0.1: in the
// playground, upload a JSON data file and a module in a subfolder, see them listed, preview the
// JSON, see a module's validation finding on its own tab, edit the module in its tab, run, and see
// the run pass with its own files listed; run it again from the run page; a rename that climbs out
// of the test's folder is refused where it is typed; saved as a test, the test page lists the files
// and saves an upload (a CSV, previewed as a table) and a removal at once.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { ADMIN, type Stack } from '../src/stack.ts'
import type { Target } from '../src/target.ts'
import { signIn, startWebStackWithTarget, type WebServer, type WebStackWithTarget } from '../src/web.ts'

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

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

const USERS = [{ name: 'ada' }, { name: 'grace' }, { name: 'linus' }]
const USERS_JSON = JSON.stringify(USERS)

/** The entry script: users from the JSON file, the target's address from the module. */
const SCRIPT = `import http from 'k6/http'
import { check } from 'k6'
import { base } from './lib/helpers.js'

const users = JSON.parse(open('./data/users.json'))

export const options = { iterations: 3, vus: 1, thresholds: { checks: ['rate==1'] } }

export default function () {
  const user = users[__ITER % users.length]
  const res = http.get(base() + '/users/' + user.name)
  check(res, { 'status is 200': (r) => r.status === 200 })
  console.log('fetched ' + user.name)
}
`
/** As uploaded: aims nowhere, so only the version edited in the browser can pass. */
const HELPERS_UPLOADED = `export const base = () => 'http://127.0.0.1:9'\n`
const helpersEdited = () => `export const base = () => '${target.url}'\n`
/** A module k6 would refuse: an npm package. */
const HELPERS_BROKEN = `import _ from 'lodash'\nexport const base = () => _.identity('x')\n`

/** Replaces an editor's whole text as a person pasting would (select all, then insert). */
async function setEditor(page: Page, label: string, text: string): Promise<void> {
  await page.locator(`.cm-content[aria-label="${label}"]`).click()
  await page.keyboard.press('Control+A')
  await page.keyboard.insertText(text)
}

/** Uploads one file through the Files card's picker into `folder`. */
async function upload(page: Page, folder: string, name: string, content: string): Promise<void> {
  await page.getByLabel('Into folder').fill(folder)
  await page.getByLabel('Upload files').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(content) })
  await page.getByRole('table', { name: 'Test files' }).getByRole('button', { name: `${folder}/${name}`, exact: true }).waitFor()
}

describe('tests with files in the web UI', () => {
  it('uploads, previews, edits and runs a script with a data file and a module, lists the run’s files, runs it again, and refuses a climbing rename', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    await signIn(page, web.url, ADMIN)
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Playground' }).click()
    await page.waitForURL(`${web.url}/playground`)
    await page.locator('.cm-content[aria-label="k6 script"]').waitFor()
    await setEditor(page, 'k6 script', SCRIPT)

    // — Upload a JSON data file into data/ and a module into lib/; both are listed.
    await upload(page, 'data', 'users.json', USERS_JSON)
    await upload(page, 'lib', 'helpers.js', HELPERS_UPLOADED)
    const list = page.getByRole('table', { name: 'Test files' })
    await expect.poll(() => list.locator('tbody td.file-path code').allTextContents()).toEqual(['data/users.json', 'lib/helpers.js'])
    expect(await list.getByRole('row').filter({ hasText: 'data/users.json' }).locator('td.num').textContent()).toBe(`${USERS_JSON.length} bytes`)

    // — The JSON file's preview, pretty-printed.
    await list.getByRole('button', { name: 'data/users.json', exact: true }).click()
    const preview = page.getByLabel('JSON preview of data/users.json')
    await preview.waitFor()
    expect(await preview.textContent()).toBe(JSON.stringify(USERS, null, 2))

    // — The module opens in its own tab; a finding in it lands on that tab, not on the script.
    await page.getByRole('button', { name: 'Edit lib/helpers.js' }).click()
    const moduleTab = page.getByRole('tab', { name: /lib\/helpers\.js/ })
    await moduleTab.waitFor()
    await expect.poll(() => page.locator('.cm-content[aria-label="lib/helpers.js"]').textContent()).toBe(HELPERS_UPLOADED.trimEnd())
    await setEditor(page, 'lib/helpers.js', HELPERS_BROKEN)
    await page.getByRole('button', { name: 'Validate' }).click()
    const finding = page.getByRole('list', { name: 'Problems' }).getByRole('button').filter({ hasText: 'lodash' })
    await finding.waitFor()
    expect(await finding.textContent()).toContain('lib/helpers.js')
    await moduleTab.locator('.marker.error').waitFor()
    expect(await page.getByRole('tab', { name: /^Script/ }).locator('.marker').count()).toBe(0)
    await page.locator('[data-testid="file-editor"] .cm-lintRange-error').first().waitFor()

    // — Edit the module in its tab to aim at the local target; validation passes.
    await setEditor(page, 'lib/helpers.js', helpersEdited())
    await moduleTab.locator('.edited').waitFor()
    await page.getByRole('button', { name: 'Validate' }).click()
    await page.getByText('No problems found.').waitFor()
    expect(await moduleTab.locator('.marker').count()).toBe(0)

    // — Run: the edited module is uploaded with the run; the run passes and lists its own files.
    target.reset()
    const euCentral = page.getByRole('radio', { name: /EU Central/ })
    await page.locator('label', { has: euCentral }).getByText('runner available').waitFor()
    await euCentral.check()
    await page.getByRole('button', { name: 'Run', exact: true }).click()
    await page.waitForURL((url) => url.pathname.startsWith('/runs/'))
    const runId = new URL(page.url()).pathname.split('/').pop()!
    await page.locator('.status', { hasText: 'Passed' }).waitFor({ timeout: 90_000 })
    expect(target.countOf('/users/ada') + target.countOf('/users/grace') + target.countOf('/users/linus')).toBe(3)
    const runFiles = page.getByRole('table', { name: 'Run files' })
    await expect.poll(() => runFiles.locator('tbody td.file-path code').allTextContents()).toEqual(['data/users.json', 'lib/helpers.js'])
    const stored = await stack.api.runs.files.query({ runId })
    expect(stored.files.find((f) => f.path === 'lib/helpers.js')?.sha256).toBe(sha256(helpersEdited()))
    expect(stored.files.find((f) => f.path === 'data/users.json')?.sha256).toBe(sha256(USERS_JSON))
    // The run's copy of the module, previewed as it ran.
    await runFiles.getByRole('button', { name: 'lib/helpers.js', exact: true }).click()
    await page.getByLabel('Preview of lib/helpers.js').getByText(target.url).waitFor()

    // — Run again: a new run of the same script and files, opened at once.
    await page.getByRole('button', { name: 'Run again' }).click()
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(runId))
    const rerunId = new URL(page.url()).pathname.split('/').pop()!
    await page.getByRole('heading', { name: `Run ${rerunId}` }).waitFor()
    await page.locator('.status', { hasText: 'Passed' }).waitFor({ timeout: 90_000 })
    expect((await stack.api.runs.files.query({ runId: rerunId })).files).toEqual(stored.files)
    await expect.poll(() => page.getByRole('table', { name: 'Run files' }).locator('tbody td.file-path code').allTextContents()).toEqual(['data/users.json', 'lib/helpers.js'])

    // — Back in the playground (the tab's draft kept the files): a rename that climbs out is refused where it is typed.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Playground' }).click()
    await expect.poll(() => list.locator('tbody td.file-path code').allTextContents()).toEqual(['data/users.json', 'lib/helpers.js'])
    await page.getByRole('button', { name: 'Rename data/users.json' }).click()
    await page.getByLabel('New path for data/users.json').fill('../x.json')
    await page.getByRole('button', { name: 'Save name' }).click()
    const refusal = page.getByRole('alert').filter({ hasText: 'climbs out of the test\'s folder with ".."' })
    await refusal.waitFor()
    expect(await refusal.textContent()).toContain('"../x.json"')
    await page.getByRole('button', { name: 'Cancel' }).click()
    expect(await list.locator('tbody td.file-path code').allTextContents()).toEqual(['data/users.json', 'lib/helpers.js'])

    // — Saved as a test: the test keeps the files, and its page lists them.
    await page.getByLabel('Test name').fill('Users from a file')
    await page.getByRole('button', { name: 'Save as test' }).click()
    await page.getByRole('status').filter({ hasText: 'Saved “Users from a file”.' }).waitFor()
    await page.waitForURL((url) => url.pathname === '/playground' && url.searchParams.has('test'))
    const testId = new URL(page.url()).searchParams.get('test')!
    const saved = await stack.api.tests.byId.query({ id: testId })
    expect(saved.files.map((f) => [f.path, f.sha256])).toEqual([
      ['data/users.json', sha256(USERS_JSON)],
      ['lib/helpers.js', sha256(helpersEdited())],
    ])
    await page.goto(`${web.url}/tests/${testId}`)
    const testFiles = page.getByRole('table', { name: 'Test files' })
    await expect.poll(() => testFiles.locator('tbody td.file-path code').allTextContents()).toEqual(['data/users.json', 'lib/helpers.js'])

    // — On the test page a change is saved at once: a CSV uploaded into data/ (its first rows as a
    // table), then removed again.
    await upload(page, 'data', 'users.csv', 'name,city\nada,London\ngrace,"New York, NY"\n')
    await page.getByRole('status').filter({ hasText: 'Saved the test’s files.' }).waitFor()
    await expect.poll(async () => (await stack.api.tests.byId.query({ id: testId })).files.map((f) => f.path)).toEqual(['data/users.csv', 'data/users.json', 'lib/helpers.js'])
    const rows = page.getByRole('table', { name: 'First rows of data/users.csv' })
    await rows.waitFor()
    expect(await rows.locator('thead th').allTextContents()).toEqual(['name', 'city'])
    expect(await rows.locator('tbody tr').nth(1).locator('td').allTextContents()).toEqual(['grace', 'New York, NY'])
    await page.getByRole('button', { name: 'Remove data/users.csv' }).click()
    await page.getByRole('button', { name: 'Confirm removing data/users.csv' }).click()
    await expect.poll(async () => (await stack.api.tests.byId.query({ id: testId })).files.map((f) => f.path)).toEqual(['data/users.json', 'lib/helpers.js'])
    expect(await testFiles.locator('tbody td.file-path code').allTextContents()).toEqual(['data/users.json', 'lib/helpers.js'])

    await context.close()
  })
})
