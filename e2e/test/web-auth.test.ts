// The web UI in a real browser (Debian's Chromium driven by playwright-core) against the real
// stack: signing in with the HTTP-only session cookie, the way back to sign-in, API tokens,
// invitations and roles, and the sandbox that keeps the k6 HTML report away from the session.
// STAMPEDE_SCREENSHOTS=1 also writes docs/screenshots/{login,members}.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { isTerminal } from '@stampede/shared'
import { tokenClient } from '../src/clients.ts'
import { ADMIN, type Stack } from '../src/stack.ts'
import { waitUntil } from '../src/wait.ts'
import { screenshot, startWebStack, type WebServer, type WebStack } from '../src/web.ts'


/** Long enough (several 1 s dashboard periods) for k6 to write its HTML report. */
const REPORT_SCRIPT = `
  import { sleep } from 'k6'
  export const options = { vus: 1, duration: '3s' }
  export default function () { sleep(0.2) }
`

/**
 * Stands in for the k6 report: tries to read the app's cookies and to call the API with them,
 * and tells the embedding page what it got.
 */
const probeReport = (apiUrl: string) => `<!doctype html>
<html><body><p>probe</p><script>
  const result = { probe: 'stampede' }
  try { result.cookie = { value: document.cookie } } catch (e) { result.cookie = { threw: String(e) } }
  fetch(${JSON.stringify(`${apiUrl}/trpc/auth.me`)}, { credentials: 'include' })
    .then(async (res) => { result.fetch = { status: res.status, body: await res.text() } })
    .catch((e) => { result.fetch = { threw: String(e) } })
    .finally(() => parent.postMessage(result, '*'))
</script></body></html>`

interface Probe {
  origin: string
  data: { probe: string; cookie: { value?: string; threw?: string }; fetch: { status?: number; body?: string; threw?: string } }
}

let stack: Stack
let web: WebServer
let browser: Browser
let runId: string
const contexts: BrowserContext[] = []

let webStack: WebStack | undefined

beforeAll(async () => {
  webStack = await startWebStack()
  ;({ stack, web, browser } = webStack)
  // Started now so that its report exists by the time the last test looks at it.
  runId = (await stack.api.runs.start.mutate({ script: REPORT_SCRIPT, location: 'us-east' })).id
})

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {})
  await webStack?.stop()
})

/** A page in a browser context of its own (its own cookies). */
async function freshPage(): Promise<Page> {
  const context = await browser.newContext()
  contexts.push(context)
  return context.newPage()
}

async function fillSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

async function signedInAdmin(): Promise<Page> {
  const page = await freshPage()
  await page.goto(`${web.url}/login`)
  await fillSignIn(page, ADMIN.email, ADMIN.password)
  await page.waitForURL(`${web.url}/`)
  await page.getByLabel('Project').waitFor()
  return page
}

/** Through the header and the settings tabs, as a person would; links navigate client-side. */
async function openSettingsTab(page: Page, tab: string, path: string): Promise<void> {
  await page.getByRole('link', { name: 'Settings' }).click()
  await page.waitForURL(`${web.url}/settings`)
  await page.getByRole('link', { name: tab }).click()
  await page.waitForURL(`${web.url}${path}`)
  await page.locator('nav[aria-label="Settings"] a[aria-current="page"]', { hasText: tab }).waitFor()
}

describe('signing in', () => {
  it('refuses a wrong password, opens the project with the right one, keeps the session cookie from page scripts, and signs out', async () => {
    const page = await freshPage()
    await page.setViewportSize({ width: 1100, height: 640 })
    await page.goto(`${web.url}/`)
    await page.waitForURL(`${web.url}/login`)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await screenshot(page, 'login', { fullPage: true })

    await fillSignIn(page, ADMIN.email, 'not the password at all')
    await page.getByRole('alert').filter({ hasText: 'email or password is wrong' }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/login')

    await fillSignIn(page, ADMIN.email, ADMIN.password)
    await page.waitForURL(`${web.url}/`)
    const switcher = page.getByLabel('Project')
    await switcher.waitFor()
    expect(await switcher.inputValue()).toBe(stack.projectId)
    expect(await page.locator('.switcher .badge').textContent()).toBe('owner')
    await page.getByText('Single-machine mode: k6 may reach this machine').waitFor()
    await page.getByRole('heading', { name: 'Latest runs' }).waitFor()

    const cookie = (await page.context().cookies(stack.apiUrl)).find((c) => c.name === 'stampede_session')
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' })
    expect(await page.evaluate('document.cookie')).not.toContain('stampede_session')

    await page.locator('summary', { hasText: ADMIN.name }).click()
    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await page.waitForURL(`${web.url}/login`)
    expect((await page.context().cookies(stack.apiUrl)).map((c) => c.name)).not.toContain('stampede_session')
  })

  it('sends a visitor without a session from a run to the sign-in page, and back to the run after signing in', async () => {
    const page = await freshPage()
    await page.goto(`${web.url}/runs/${runId}`)
    await page.waitForURL((url) => url.pathname === '/login')
    expect(new URL(page.url()).searchParams.get('next')).toBe(`/runs/${runId}`)

    await fillSignIn(page, ADMIN.email, ADMIN.password)
    await page.waitForURL(`${web.url}/runs/${runId}`)
    await page.getByRole('heading', { name: `Run ${runId}` }).waitFor()
  })
})

describe('the setup page', () => {
  it('needs the setup link, checks the new password in the page, and sends the visitor of a used link to sign in', async () => {
    const withoutLink = await freshPage()
    await withoutLink.goto(`${web.url}/setup`)
    await withoutLink.getByRole('alert').filter({ hasText: 'This page needs the one-time setup link.' }).waitFor()

    // The setup link opened again after the first admin was created with it.
    const page = await freshPage()
    await page.goto(`${web.url}/setup#token=${stack.bootstrapToken}`)
    await page.getByLabel('Name').fill('Second Admin')
    await page.getByLabel('Email').fill('second-admin@example.com')
    await page.getByLabel('Password', { exact: true }).fill('a long enough password')
    await page.getByLabel('Password again').fill('a long enough passw0rd')
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByRole('alert').filter({ hasText: 'The two passwords differ.' }).waitFor()

    await page.getByLabel('Password again').fill('a long enough password')
    await page.getByRole('button', { name: 'Create account' }).click()
    const refusal = page.getByRole('alert').filter({ hasText: 'this bootstrap link was used already; sign in instead' })
    await refusal.waitFor()
    await refusal.getByRole('link', { name: 'sign in' }).click()
    await page.waitForURL(`${web.url}/login`)
  })
})

describe('API tokens', () => {
  it('shows a new token once, and a token revoked on the page is refused by the API', async () => {
    const page = await signedInAdmin()
    await openSettingsTab(page, 'API tokens', '/settings/tokens')
    await page.getByRole('heading', { name: 'Create a token' }).waitFor()
    await page.getByLabel('Name').fill('web e2e')
    await page.getByLabel('Scope').selectOption('read')
    await page.getByRole('button', { name: 'Create token' }).click()

    const secret = page.getByLabel('New token “web e2e” (read)')
    await secret.waitFor()
    const token = await secret.inputValue()
    expect(token).toMatch(/^stp_/)
    await page.getByText('it is shown only once').waitFor()
    const client = tokenClient(stack.apiUrl, token)
    expect((await client.auth.me.query()).actor).toMatchObject({ kind: 'token', name: 'web e2e', scope: 'read' })

    await page.getByRole('button', { name: 'Done' }).click()
    await page.reload()
    const row = page.getByRole('row').filter({ hasText: 'web e2e' })
    await row.waitFor()
    expect(await page.content()).not.toContain(token)

    await row.getByRole('button', { name: 'Revoke' }).click()
    await row.getByRole('group').getByRole('button', { name: 'Revoke' }).click()
    await row.getByText('revoked', { exact: true }).waitFor()
    await expect(client.auth.me.query()).rejects.toThrow(/was revoked/)
  })
})

describe('members', () => {
  it('invites an email without an account; the invitee joins as a viewer and is offered no admin or run actions', async () => {
    const admin = await signedInAdmin()
    await admin.goto(`${web.url}/settings/members`)
    await admin.getByLabel('Email').fill('vera@stampede.test')
    await admin.getByLabel('Role', { exact: true }).selectOption('viewer')
    await admin.getByRole('button', { name: 'Add', exact: true }).click()
    const link = await admin.getByLabel('Invitation link for vera@stampede.test').inputValue()
    expect(link).toMatch(new RegExp(`^${web.url}/invite#token=[\\w-]{20,}$`))

    const invitee = await freshPage()
    await invitee.goto(link)
    await invitee.getByLabel('Name').fill('Vera Viewer')
    await invitee.getByLabel('Password', { exact: true }).fill('a long enough password')
    await invitee.getByLabel('Password again').fill('a long enough password')
    await invitee.getByRole('button', { name: 'Create account and join' }).click()
    await invitee.waitForURL(`${web.url}/`)
    await invitee.locator('summary', { hasText: 'Vera Viewer' }).waitFor()
    expect(await invitee.locator('.switcher .badge').textContent()).toBe('viewer')
    await invitee.getByRole('heading', { name: 'Latest runs' }).waitFor()
    expect(await invitee.getByRole('button', { name: 'Run', exact: true }).count()).toBe(0)

    await openSettingsTab(invitee, 'API tokens', '/settings/tokens')
    await invitee.getByText('You need the admin role for this.').waitFor()
    expect(await invitee.getByRole('button', { name: 'Create token' }).count()).toBe(0)

    await admin.reload()
    const row = admin.getByRole('row').filter({ hasText: 'vera@stampede.test' })
    await row.waitFor()
    expect(await row.getByLabel('Role of vera@stampede.test').inputValue()).toBe('viewer')
    await admin.setViewportSize({ width: 1100, height: 760 })
    await screenshot(admin, 'members', { fullPage: true })
  })
})

describe('the HTML report', () => {
  it('is framed without access to the app: it can neither read the cookies nor call the API with them', async () => {
    const run = await waitUntil(`run ${runId} to finish`, async () => {
      const r = await stack.api.runs.byId.query({ id: runId })
      return isTerminal(r.status) ? r : undefined
    }, 90_000, 250)
    expect(run.artifacts.report).toBeTruthy()
    await stack.server.services.storage.putBytes(`runs/${runId}/report.html`, probeReport(stack.apiUrl), 'text/html; charset=utf-8')

    const page = await signedInAdmin()
    // Control: the app's own page does reach the API with the session.
    const own = await page.evaluate(`fetch(${JSON.stringify(`${stack.apiUrl}/trpc/auth.me`)}, { credentials: 'include' }).then((r) => r.text())`)
    expect(own).toContain(ADMIN.email)

    await page.addInitScript({ content: `window.__probes = []; addEventListener('message', (e) => window.__probes.push({ origin: e.origin, data: e.data }))` })
    await page.goto(`${web.url}/runs/${runId}`)
    await page.getByText('complete', { exact: true }).waitFor() // the console WebSocket, authenticated by the cookie
    const handle = await page.waitForFunction(`window.__probes.find((p) => p.data && p.data.probe === 'stampede')`, undefined, { timeout: 30_000 })
    const probe = (await handle.jsonValue()) as Probe

    expect(probe.origin).toBe('null') // an opaque origin: the sandbox holds
    expect(probe.data.cookie.threw ?? probe.data.cookie.value).toMatch(probe.data.cookie.threw ? /SecurityError|sandbox/i : /^$/)
    if (probe.data.fetch.threw === undefined) expect(probe.data.fetch.status).toBe(401)
    const seen = JSON.stringify(probe.data)
    expect(seen).not.toContain(ADMIN.email)
    expect(seen).not.toContain('csrfToken')
    expect(seen).not.toContain('stampede_session')
  })
})
