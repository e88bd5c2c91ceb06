// The `stampede` CLI as a CI pipeline runs it: a subprocess against the real platform (Temporal
// dev server, Postgres, S3, runner, real k6) aimed at a target on 127.0.0.1. Exit codes per
// outcome, --json output equal to what the API returns, and Ctrl-C cancelling the run.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Run } from '@stampede/sdk'
import { waitUntil } from '../src/wait.ts'
import { startStack, type Stack } from '../src/stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { CLI_BIN } from '../src/clients.ts'

let stack: Stack
let target: Target
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-cli-'))
  target = await startTarget()
  stack = await startStack()
})
afterAll(async () => {
  await stack?.stop()
  await target?.stop()
  await rm(dir, { recursive: true, force: true })
})

interface Cli {
  code: Promise<number>
  stdout: () => string
  stderr: () => string
  signal(sig: NodeJS.Signals): void
  pid: number
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>
  /** Keys typed at the terminal (only with `terminal: true`). */
  type(keys: string): void
}

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`

/**
 * Runs the CLI as a subprocess. `terminal: true` gives it a real pseudo-terminal (through
 * util-linux `script`), so stdin is a TTY and Ctrl-C typed there reaches it as a person's would.
 */
function cli(args: string[], env: Record<string, string> = {}, opts: { terminal?: boolean } = {}): Cli {
  const childEnv = { ...process.env, STAMPEDE_URL: stack.apiUrl, STAMPEDE_TOKEN: stack.token, ...env }
  const child = opts.terminal
    ? // `script` runs the command through $SHELL -c. dash (Debian's /bin/sh) stays in the terminal's
      // process group and dies of the first Ctrl-C, and `script` then reports its 130, so the
      // shell must `exec` the CLI. SHELL is pinned so every machine takes the same path.
      spawn('script', ['-qfec', `exec ${[process.execPath, CLI_BIN, ...args].map(quote).join(' ')}`, '/dev/null'], {
        cwd: dir,
        env: { ...childEnv, SHELL: '/bin/sh' },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, [CLI_BIN, ...args], { cwd: dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const watchers = new Set<() => void>()
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    for (const w of watchers) w()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    for (const w of watchers) w()
  })
  const code = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)))
  return {
    code,
    stdout: () => stdout,
    stderr: () => stderr,
    signal: (sig) => child.kill(sig),
    pid: child.pid!,
    type: (keys) => void child.stdin?.write(keys),
    waitForOutput: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout + stderr)) {
            watchers.delete(check)
            clearTimeout(timer)
            resolve()
          }
        }
        const timer = setTimeout(() => {
          watchers.delete(check)
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; stdout: ${stdout}\nstderr: ${stderr}`))
        }, timeoutMs)
        watchers.add(check)
        check()
      }),
  }
}

async function scriptFile(name: string, body: string): Promise<string> {
  await writeFile(path.join(dir, name), body)
  return name
}

describe('stampede run', () => {
  it('exits 0 on pass, streams the console and prints the results; --json prints the run as the API returns it', async () => {
    target.reset()
    const file = await scriptFile('pass.js', `
      import http from 'k6/http'
      export const options = { vus: 1, iterations: 5, thresholds: { http_req_failed: ['rate<0.01'] } }
      export default function () { http.get('${target.url}/'); console.log(__ENV.GREETING + ' from iteration ' + __ITER) }`)
    const human = cli(['run', file, '--location', 'us-east', '--test', 'checkout flow', '--env', 'GREETING=hello'])
    expect(await human.code).toBe(0)
    expect(human.stdout()).toContain('hello from iteration 4')
    expect(human.stdout()).toMatch(/PASSED/)
    expect(human.stdout()).toMatch(/http_req_failed\s+rate<0.01\s+ok/)
    expect(human.stdout()).toMatch(/http_reqs\s+5/)
    expect(human.stderr()).toContain('created test "checkout flow"')

    const machine = cli(['run', file, '--location', 'us-east', '--test', 'checkout flow', '--json'])
    expect(await machine.code).toBe(0)
    const run = JSON.parse(machine.stdout()) as Run
    expect(run).toEqual(await stack.api.runs.byId.query({ id: run.id }))
    expect(run).toMatchObject({ status: 'passed', trigger: 'api' })
    expect(run.metrics.httpReqs).toBe(5)
    expect(target.count).toBe(10)
    // The second run updated the same saved test rather than creating another.
    const tests = await stack.api.tests.list.query()
    expect(tests.filter((t) => t.name === 'checkout flow')).toHaveLength(1)
    expect(run.testId).toBe(tests.find((t) => t.name === 'checkout flow')?.id)
  })

  it('exits 99 when thresholds are crossed', async () => {
    const file = await scriptFile('slow.js', `
      import http from 'k6/http'
      export const options = { vus: 1, iterations: 3, thresholds: { http_req_duration: ['max<0'] } }
      export default function () { http.get('${target.url}/') }`)
    const p = cli(['run', file, '--location', 'us-east'])
    expect(await p.code).toBe(99)
    expect(p.stdout()).toMatch(/http_req_duration\s+max<0\s+CROSSED/)
  })

  it('exits 7 for a script error, both when validation refuses it and when k6 throws', async () => {
    const invalid = await scriptFile('invalid.js', `export default function ( {`)
    const refused = cli(['run', invalid, '--location', 'us-east'])
    expect(await refused.code).toBe(7)
    expect(refused.stderr()).toMatch(/invalid\.js:\d+:\d+ error/)

    const throws = await scriptFile('throws.js', `
      export const options = { vus: 1, iterations: 1 }
      export function setup() { throw new Error('setup could not log in') }
      export default function () {}`)
    const p = cli(['run', throws, '--location', 'us-east', '--json'])
    expect(await p.code).toBe(7)
    const run = JSON.parse(p.stdout()) as Run
    expect(run.status).toBe('error')
    expect(run.errorMessage).toContain('setup could not log in')
  })

  it('Ctrl-C cancels the run (with --yes, without asking) and exits 5', async () => {
    const file = await scriptFile('long.js', `
      import http from 'k6/http'
      import { sleep } from 'k6'
      export const options = { vus: 1, duration: '60s' }
      export default function () { http.get('${target.url}/'); console.log('still going'); sleep(0.2) }`)
    const p = cli(['run', file, '--location', 'us-east', '--yes', '--json'])
    await p.waitForOutput(/still going/)
    p.signal('SIGINT')
    expect(await p.code).toBe(5)
    const run = JSON.parse(p.stdout()) as Run
    expect(run.status).toBe('cancelled')
    expect((await stack.api.runs.byId.query({ id: run.id })).status).toBe('cancelled')
  })

  it('SIGTERM (a CI job being stopped) cancels the run without asking, even at a terminal, and exits 5', async () => {
    const file = await scriptFile('long-term.js', `
      import http from 'k6/http'
      import { sleep } from 'k6'
      export const options = { vus: 1, duration: '60s' }
      export default function () { http.get('${target.url}/'); console.log('still going'); sleep(0.2) }`)
    const p = cli(['run', file, '--location', 'us-east'], {}, { terminal: true })
    await p.waitForOutput(/still going/)
    const runId = /run (\S+) (queued|running) in us-east/.exec(p.stdout())?.[1]
    expect(runId).toBeDefined()
    // The CLI itself gets the signal, as from a CI runner (`script` would end on its own SIGTERM).
    const [cliPid] = (await readFile(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8')).trim().split(/\s+/).map(Number)
    process.kill(cliPid!, 'SIGTERM')
    expect(await p.code).toBe(5)
    expect(p.stdout()).not.toMatch(/Cancel run .*\[y\/N\]/)
    expect(p.stdout()).toContain(`cancelling run ${runId}`)
    expect((await stack.api.runs.byId.query({ id: runId! })).status).toBe('cancelled')
  })

  it('Ctrl-C at a terminal asks once: "n" lets the run go on, "y" cancels it and exits 5', async () => {
    const file = await scriptFile('long-tty.js', `
      import { sleep } from 'k6'
      export const options = { vus: 1, duration: '60s' }
      export default function () { console.log('tick ' + __ITER); sleep(0.2) }`)
    const p = cli(['run', file, '--location', 'us-east'], {}, { terminal: true })
    await p.waitForOutput(/tick 3/)
    const prompts = () => (p.stdout().match(/Cancel run [0-9a-f-]{36}\? \[y\/N\]/g) ?? []).length
    p.type('\x03')
    await p.waitForOutput(/Cancel run [0-9a-f-]{36}\? \[y\/N\]/)
    const runId = /Cancel run ([0-9a-f-]{36})/.exec(p.stdout())![1]!
    p.type('n\r')
    await p.waitForOutput(/the run goes on/)
    expect((await stack.api.runs.byId.query({ id: runId })).status).toBe('running')
    p.type('\x03')
    await waitUntil('the second prompt', async () => (prompts() === 2 ? true : undefined), 10_000, 50)
    p.type('y\r')
    expect(await p.code).toBe(5)
    expect((await stack.api.runs.byId.query({ id: runId })).status).toBe('cancelled')
  })

  it('--detach prints the run id at once', async () => {
    const file = await scriptFile('quick.js', `export const options = { vus: 1, iterations: 1 }\nexport default function () {}`)
    const p = cli(['run', file, '--location', 'us-east', '--detach'])
    expect(await p.code).toBe(0)
    const id = p.stdout().trim()
    expect((await stack.api.runs.byId.query({ id })).id).toBe(id)
  })
})

describe('other commands', () => {
  it('lists, shows and fetches logs as JSON equal to the API, and names bad usage and unreachable APIs', async () => {
    const locations = cli(['locations', '--json'])
    expect(await locations.code).toBe(0)
    expect(JSON.parse(locations.stdout())).toEqual(await stack.api.locations.list.query())

    const list = cli(['runs', 'list', '--limit', '3', '--json'])
    expect(await list.code).toBe(0)
    const page = JSON.parse(list.stdout()) as { items: Run[] }
    expect(page).toEqual(await stack.api.runs.list.query({ limit: 3 }))
    const finished = page.items.find((r) => r.status === 'passed')!

    const show = cli(['runs', 'show', finished.id, '--json'])
    expect(await show.code).toBe(0)
    expect(JSON.parse(show.stdout())).toEqual(await stack.api.runs.byId.query({ id: finished.id }))

    const logs = cli(['runs', 'logs', finished.id])
    expect(await logs.code).toBe(0)
    const log = await fetch((await stack.api.runs.artifactUrl.query({ runId: finished.id, name: 'log' })).url)
    expect(logs.stdout()).toBe(await log.text())

    const tests = cli(['tests', 'list', '--json'])
    expect(await tests.code).toBe(0)
    expect(JSON.parse(tests.stdout())).toEqual(await stack.api.tests.list.query())

    const valid = await scriptFile('valid.js', `export const options = { vus: 1, iterations: 1 }\nexport default function () {}`)
    const validate = cli(['validate', valid, '--json'])
    expect(await validate.code).toBe(0)
    expect(JSON.parse(validate.stdout())).toMatchObject({ ok: true, errors: [] })

    expect(await cli(['runs', 'show', crypto.randomUUID()]).code).toBe(1)
    expect(await cli(['run', 'pass.js']).code).toBe(2)
    expect(await cli(['runs', 'frobnicate']).code).toBe(2)
    const down = cli(['locations', '--json'], { STAMPEDE_URL: 'http://127.0.0.1:9' })
    expect(await down.code).toBe(3)
    expect(JSON.parse(down.stdout())).toMatchObject({ error: { type: 'StampedeConnectionError', exitCode: 3 } })
    const anonymous = cli(['runs', 'list'], { STAMPEDE_TOKEN: '' })
    expect(await anonymous.code).toBe(1)
    expect(anonymous.stderr()).toContain('STAMPEDE_TOKEN')
  })

  it('lists jobs and triggers one by name', async () => {
    const test = (await stack.api.tests.list.query())[0]!
    const job = await stack.api.jobs.create.mutate({ name: 'nightly checkout', testIds: [test.id], location: 'us-east', cron: '0 2 * * *', timezone: 'Europe/Berlin', enabled: false })
    const list = cli(['jobs', 'list', '--json'])
    expect(await list.code).toBe(0)
    expect(JSON.parse(list.stdout())).toEqual(await stack.api.jobs.list.query())
    const human = cli(['jobs', 'list'])
    expect(await human.code).toBe(0)
    expect(human.stdout()).toContain('0 2 * * * (Europe/Berlin)')

    const fired = cli(['jobs', 'trigger', 'nightly checkout'])
    expect(await fired.code).toBe(0)
    expect(fired.stdout()).toContain(`job "nightly checkout" ${job.id}: started: the firing runs now`)
    const firing = await waitUntil('the triggered firing', async () => {
      const [f] = (await stack.api.jobs.history.query({ id: job.id })).items
      return f?.finishedAt ? f : undefined
    }, 60_000, 200)
    expect(firing.runs).toHaveLength(1)
    expect(await cli(['jobs', 'trigger', 'no such job']).code).toBe(1)
  })
})
