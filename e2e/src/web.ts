// The web UI for browser tests, served as in production: `vite build` once per test file (it can
// run while the stack starts, since the API's URL is read when the server starts, not when it is
// built) and then adapter-node's server on a port chosen up front, because the API must list the
// UI's origin in WEB_ORIGIN before it starts. A built app also never reloads itself mid-test the
// way Vite's dev server does when it discovers a dependency.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { freePort } from '@stampede/devstack'
import { startTarget, type Target } from './target.ts'
import { startStack, type Stack } from './stack.ts'
import { waitUntil } from './wait.ts'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const webDir = path.join(repoRoot, 'apps/web')

/** Debian's Chromium; Playwright drives it over CDP, so no browser download is needed. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

export interface WebServer {
  url: string
  stop(): Promise<void>
}

/** Output of a child process, kept to explain a failure. */
function capture(child: ChildProcess): () => string {
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return () => output
}

/** Builds apps/web into apps/web/build (what `npm run build -w @stampede/web` does). */
export async function buildWeb(): Promise<void> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: webDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = capture(child)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', resolve)
  })
  if (code !== 0) throw new Error(`vite build of apps/web failed (exit ${code}):\n${output()}`)
}

/** Serves the built UI on 127.0.0.1:`port`, talking to the API at `apiUrl`. */
export async function startWeb(opts: { port: number; apiUrl: string }): Promise<WebServer> {
  const url = `http://127.0.0.1:${opts.port}`
  const child = spawn(process.execPath, ['build/index.js'], {
    cwd: webDir,
    env: { PATH: process.env.PATH ?? '', PORT: String(opts.port), HOST: '127.0.0.1', ORIGIN: url, PUBLIC_STAMPEDE_API_URL: opts.apiUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = capture(child)
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const stop = async () => {
    process.off('exit', killOnExit)
    if (child.exitCode !== null || child.signalCode !== null) return
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.kill('SIGTERM')
    await exited
    clearTimeout(timer)
  }

  const died = exited.then(() => {
    throw new Error(`the web server exited (${child.exitCode ?? child.signalCode}):\n${output()}`)
  })
  died.catch(() => {}) // only the start-up race below cares; a later stop is expected
  try {
    await Promise.race([waitUntil(`the web UI at ${url}`, async () => ((await fetch(`${url}/login`)).ok ? true : undefined), 20_000), died])
  } catch (err) {
    await stop()
    throw err
  }
  return { url, stop }
}

export const launchBrowser = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM_PATH })

/** What a browser test needs: the platform, the built UI in front of it, and Chromium. */
export interface WebStack {
  stack: Stack
  web: WebServer
  browser: Browser
  /** Closes the browser, then stops the UI and the platform. */
  stop(): Promise<void>
}

/**
 * Starts a WebStack. The UI's port is chosen first (the API must allow its origin before it
 * starts) and the UI is built while the platform starts. If a part fails, the parts that did
 * start are stopped before the error is thrown, so a failed start leaves no process behind.
 */
export async function startWebStack(opts: { api?: Record<string, string> } = {}): Promise<WebStack> {
  const port = await freePort()
  const [started, built] = await Promise.allSettled([startStack({ api: { WEB_ORIGIN: `http://127.0.0.1:${port}`, ...opts.api } }), buildWeb()])
  const stack = started.status === 'fulfilled' ? started.value : undefined
  const [server, chromium] = stack && built.status === 'fulfilled' ? await Promise.allSettled([startWeb({ port, apiUrl: stack.apiUrl }), launchBrowser()]) : []
  const web = server?.status === 'fulfilled' ? server.value : undefined
  const browser = chromium?.status === 'fulfilled' ? chromium.value : undefined
  const stop = async () => {
    await browser?.close()
    await web?.stop()
    await stack?.stop()
  }
  if (!stack || !web || !browser) {
    await stop()
    const failed = [started, built, server, chromium].find((r) => r?.status === 'rejected')
    throw failed?.reason ?? new Error('the web stack did not start')
  }
  return { stack, web, browser, stop }
}

/** A WebStack and a load target on 127.0.0.1 for its runs, as browser tests that run k6 need. */
export interface WebStackWithTarget extends WebStack {
  target: Target
}

/** Starts a WebStack and a target together; if either fails, the one that started is stopped before the error is thrown. */
export async function startWebStackWithTarget(opts: { api?: Record<string, string> } = {}): Promise<WebStackWithTarget> {
  const [started, local] = await Promise.allSettled([startWebStack(opts), startTarget()])
  if (started.status === 'fulfilled' && local.status === 'fulfilled') {
    const webStack = started.value
    const target = local.value
    return { ...webStack, target, stop: async () => (await webStack.stop(), await target.stop()) }
  }
  if (started.status === 'fulfilled') await started.value.stop()
  if (local.status === 'fulfilled') await local.value.stop()
  throw started.status === 'rejected' ? started.reason : (local as PromiseRejectedResult).reason
}

/** Signs in on the UI's sign-in page as a person would, and waits for the project to open. */
export async function signIn(page: Page, webUrl: string, who: { email: string; password: string }): Promise<void> {
  await page.goto(`${webUrl}/login`)
  await page.getByLabel('Email').fill(who.email)
  await page.getByLabel('Password', { exact: true }).fill(who.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${webUrl}/`)
  await page.getByLabel('Project').waitFor()
}

/** Whether this run refreshes docs/screenshots (`STAMPEDE_SCREENSHOTS=1`). */
export const SCREENSHOTS = process.env.STAMPEDE_SCREENSHOTS === '1'
const SCREENSHOT_DIR = path.join(repoRoot, 'docs/screenshots')

/**
 * Writes docs/screenshots/<name>.png when SCREENSHOTS is set: the viewport, the whole page
 * (`fullPage`), or the top `height` pixels through a taller viewport (Chromium leaves
 * out-of-process frames, such as the report's, blank in full-page captures).
 */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean; height?: number } = {}): Promise<void> {
  if (!SCREENSHOTS) return
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  const file = path.join(SCREENSHOT_DIR, `${name}.png`)
  const viewport = page.viewportSize()
  if (!opts.height || !viewport) return void (await page.screenshot({ path: file, fullPage: opts.fullPage ?? false }))
  await page.setViewportSize({ width: viewport.width, height: opts.height })
  // Frames that were off screen are throttled: wait until each has drawn two frames at this size.
  // (A string: it runs in the page, and this package's TypeScript has no DOM types.)
  await Promise.all(page.frames().map((frame) => frame.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))')))
  await page.screenshot({ path: file })
  await page.setViewportSize(viewport)
}
