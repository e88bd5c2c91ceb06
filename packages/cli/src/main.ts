// The `stampede` CLI: CI-friendly commands over the SDK. Human output by default, `--json` for
// machines (one JSON document on stdout, the API's own shapes), and exit codes a pipeline can
// branch on (see exit-codes.ts). `main` takes its I/O as a parameter so tests can drive it.
import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { k6SummarySchema } from '@stampede/shared/k6'
import { API_COMPAT, createStampedeClient, SDK_VERSION, StampedeApiError, StampedeConnectionError, StampedeConsoleError, StampedeError, StampedeVersionError, type ConsoleEvent, type Run, type RunListInput, type ScriptValidation, type StampedeClient, type Test } from '@stampede/sdk'
import { EXIT, EXIT_CODES_HELP, exitCodeForRun } from './exit-codes.ts'
import { formatJobs, formatLocations, formatResults, formatRunList, formatTests, STATUS_WORDS } from './format.ts'
// junit.ts (and xmlbuilder2, ~150 ms to load) is imported only by runs with --junit.
import type { ChecksSource } from './junit.ts'
import { formatProgress, updateMetrics, updateProgress, type Progress } from './progress.ts'

type Writable = { write(chunk: string): unknown; isTTY?: boolean }

export interface CliIo {
  env: Record<string, string | undefined>
  stdout: Writable
  stderr: Writable
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  cwd: string
  /**
   * Registers a handler for Ctrl-C (SIGINT) and for a CI job being stopped (SIGTERM); returns a
   * function that removes it.
   */
  onInterrupt(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void
}

class UsageError extends Error {}
class ScriptFileError extends Error {}

const HELP = `stampede — run Stampede load tests from a terminal or a CI pipeline

Usage:
  stampede validate <script.js|.ts>
  stampede run <script.js|.ts> --location <id> [--test <name>] [--env K=V]... [--timeout <s>] [--raw-samples | --no-raw-samples] [--junit <file>] [--detach] [--yes]
  stampede tests list
  stampede tests push <script> --name <name> [--description <text>] [--raw-samples | --no-raw-samples]
  stampede runs list [--test <name|id>] [--status <status>] [--location <id>] [--limit <n>]
  stampede runs show <run id>
  stampede runs cancel <run id>
  stampede runs logs <run id> [--follow]
  stampede locations
  stampede jobs list
  stampede jobs trigger <job name|id>

Options for every command:
  --url <url>      API base URL (env STAMPEDE_URL, default http://127.0.0.1:4000)
  --token <token>  API token, sent as a Bearer token (env STAMPEDE_TOKEN)
  --json           machine output: one JSON document on stdout (runs logs: one event per line)
  -h, --help       this help
  --version        the CLI's version (stampede --version)

validate checks the script on the API (syntax, k6's own load of it, the platform's VU and
duration caps) without running it. run validates the same way, uploads the script (as the saved test <name> with --test, else as an unsaved script), starts
it in the location, streams k6's console with a progress line on stderr, prints the results and
exits with the run's outcome. --env K=V sets __ENV.K for this run (repeatable). --detach prints
the run id and exits 0 at once. Ctrl-C cancels the run, after asking once when stdin is a
terminal (--yes: without asking); a second Ctrl-C stops waiting for the cancelled run. SIGTERM
(a CI job being stopped) cancels it without asking.

--raw-samples keeps k6's per-sample JSON stream (every single measurement, samples.json.gz) as
a download of the run, besides the per-second metrics every run keeps. It costs k6 throughput:
up to ~40 % fewer requests per second on CPU-bound scripts. Without the option a run of a saved
test (--test) follows the test's setting, and an unsaved script runs without; --no-raw-samples
turns it off for this run. On tests push the options set the saved test's default (kept when
neither is given).

--junit <file> also writes the run's result as JUnit XML for CI test reports (with --json too):
one test case per threshold (failed when crossed, with the value k6 observed), per check (failed
when any of its passes failed; per check from the run's k6 summary, else one case from the run's
totals) and for the run itself (failed when it errored, timed out or was cancelled, with the
error). The file is written whatever the outcome, also when validation refuses the script. When it
cannot be written the CLI says so and exits 2, or with the run's own code when that is not 0.

The CLI checks the API's version before its first call: it warns (on stderr) when the API is newer
by a minor or major version, and refuses (exit 1) an API of another compatibility level, naming
both versions.

${EXIT_CODES_HELP}
`

/** --raw-samples / --no-raw-samples: true, false, or undefined when neither is given. */
const RAW_SAMPLES_OPTIONS = {
  'raw-samples': { type: 'boolean' },
  'no-raw-samples': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options']

function rawSamplesOption(values: { 'raw-samples'?: boolean | undefined; 'no-raw-samples'?: boolean | undefined }): boolean | undefined {
  if (values['raw-samples'] && values['no-raw-samples']) throw new UsageError('--raw-samples and --no-raw-samples contradict each other; give one')
  return values['raw-samples'] ? true : values['no-raw-samples'] ? false : undefined
}

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options']

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

interface Ctx {
  io: CliIo
  json: boolean
  client: StampedeClient
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function out(ctx: Ctx, human: () => string, machine: unknown): void {
  ctx.io.stdout.write(ctx.json ? `${JSON.stringify(machine, null, 2)}\n` : `${human()}\n`)
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(`expected exactly one ${what}${positionals.length > 1 ? `, got ${positionals.length}` : ''}`)
  return positionals[0]
}

async function readScript(io: CliIo, file: string): Promise<string> {
  const full = path.resolve(io.cwd, file)
  if (!/\.(m?js|ts)$/.test(full)) throw new UsageError(`${file}: a k6 script must be a .js, .mjs or .ts file`)
  let text: string
  try {
    text = await readFile(full, 'utf8')
  } catch (err) {
    throw new UsageError(`${file}: cannot read the script (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  if (text.trim() === '') throw new ScriptFileError(`${file}: the script is empty`)
  return text
}

function parseEnv(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--env ${pair}: expected NAME=value`)
    env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return env
}

/** Creates the saved test `name`, or updates its script if it exists (and its raw-samples setting when given). */
async function pushTest(client: StampedeClient, name: string, script: string, description?: string, rawSamples?: boolean): Promise<{ test: Test; created: boolean }> {
  const more = { ...(description !== undefined ? { description } : {}), ...(rawSamples !== undefined ? { rawSamples } : {}) }
  const existing = (await client.tests.list.query()).find((t) => t.name === name)
  if (existing) return { test: await client.tests.update.mutate({ id: existing.id, script, ...more }), created: false }
  return { test: await client.tests.create.mutate({ name, script, ...more }), created: true }
}

async function resolveTestId(client: StampedeClient, nameOrId: string): Promise<string> {
  if (UUID.test(nameOrId)) return nameOrId
  const test = (await client.tests.list.query()).find((t) => t.name === nameOrId)
  if (!test) throw new StampedeApiError(`no saved test is named "${nameOrId}"`, 'NOT_FOUND', 404, 'tests.list')
  return test.id
}

function ask(io: CliIo, question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream, terminal: false })
    // A previous question's close() paused stdin; without this a second answer is never read.
    io.stdin.resume()
    rl.question(question, (answer) => {
      // Resolve before close(): close emits 'close' at once, which would answer "no".
      resolve(/^y(es)?$/i.test(answer.trim()))
      rl.close()
    })
    rl.on('close', () => resolve(false))
  })
}

/** Validates on the API; prints findings as file:line:column. Returns false when the script has errors. */
async function validate(ctx: Ctx, file: string, script: string, quietWhenOk: boolean): Promise<{ ok: boolean; result: ScriptValidation }> {
  const result = await ctx.client.scripts.validate.mutate({ script })
  const to = ctx.json ? ctx.io.stderr : result.ok ? ctx.io.stdout : ctx.io.stderr
  for (const f of result.errors) to.write(`${file}:${f.line}:${f.column} error ${f.code}: ${f.message}\n`)
  for (const f of result.warnings) ctx.io.stderr.write(`${file}:${f.line}:${f.column} warning ${f.code}: ${f.message}\n`)
  if (result.ok && !quietWhenOk && !ctx.json) {
    const r = result.requirements
    ctx.io.stdout.write(`${file}: ok${r ? ` (up to ${r.maxVUs} VUs, at most ${Math.ceil(r.totalDurationSeconds)} s)` : ''}\n`)
  }
  return { ok: result.ok, result }
}

async function validateCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { positionals } = parse(args, {})
  const file = onePositional(positionals, 'script file')
  const { ok, result } = await validate(ctx, file, await readScript(ctx.io, file), false)
  if (ctx.json) out(ctx, () => '', result)
  return ok ? EXIT.passed : EXIT.scriptError
}

async function runCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    location: { type: 'string', short: 'l' },
    test: { type: 'string' },
    env: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    detach: { type: 'boolean', default: false },
    yes: { type: 'boolean', short: 'y', default: false },
    junit: { type: 'string' },
    ...RAW_SAMPLES_OPTIONS,
  })
  const file = onePositional(positionals, 'script file')
  if (!values.location) throw new UsageError('--location <id> is required (see `stampede locations`)')
  if (values.junit !== undefined && values.detach) throw new UsageError('--junit needs the run\'s result; it cannot be combined with --detach')
  const junit = values.junit === undefined ? undefined : await junitTarget(ctx.io, values.junit)
  const rawSamples = rawSamplesOption(values)
  const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout)
  if (timeoutSeconds !== undefined && !Number.isInteger(timeoutSeconds)) throw new UsageError(`--timeout ${values.timeout}: expected whole seconds`)
  const env = parseEnv(values.env)
  const script = await readScript(ctx.io, file)
  const { io, client } = ctx
  const log = (s: string) => io.stderr.write(`${s}\n`)

  // Ctrl-C may come at any time, even before the run exists: remember it and act once it does.
  let runId: string | undefined
  let cancelRequested = false
  let asking = false
  let stopWaiting: ((code: number) => void) | undefined
  const stopped = new Promise<number>((resolve) => (stopWaiting = resolve))
  const requestCancel = () => {
    cancelRequested = true
    if (!runId) return
    log(`\nstampede: cancelling run ${runId}…`)
    client.runs.cancel.mutate({ id: runId }).catch((err: unknown) => log(`stampede: could not cancel run ${runId}: ${(err as Error).message}`))
  }
  const removeInterrupt = io.onInterrupt((signal) => {
    if (cancelRequested) {
      log(`stampede: stopped waiting; run ${runId ?? '(not started)'} is being cancelled`)
      stopWaiting?.(EXIT.cancelled)
      return
    }
    // SIGTERM is a CI job being stopped, not a person: cancel without asking.
    if (signal === 'SIGTERM' || values.yes || !io.stdin.isTTY || asking || !runId) return requestCancel()
    asking = true
    void ask(io, `\nCancel run ${runId}? [y/N] `).then((yes) => {
      asking = false
      if (yes) requestCancel()
      else if (!cancelRequested) log('stampede: the run goes on')
    })
  })

  try {
    const validation = await validate(ctx, file, script, true)
    if (!validation.ok) {
      if (ctx.json) out(ctx, () => '', { validation: validation.result })
      if (!junit) return EXIT.scriptError
      const { validationJunitXml } = await import('./junit.ts')
      return await writeJunit(ctx, junit, validationJunitXml(values.test ?? file, file, validation.result), EXIT.scriptError)
    }
    let testId: string | undefined
    if (values.test !== undefined) {
      const { test, created } = await pushTest(client, values.test, script)
      testId = test.id
      if (!ctx.json) log(`stampede: ${created ? 'created' : 'updated'} test "${test.name}" (${test.id})`)
    }
    // The run's setting, not the test's: without an option, a saved test's own setting applies.
    const common = { location: values.location, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}), ...(env ? { env } : {}), ...(rawSamples !== undefined ? { rawSamples } : {}) }
    const started = await client.runs.start.mutate(testId ? { ...common, testId } : { ...common, script })
    runId = started.id
    if (values.detach) {
      out(ctx, () => started.id, started)
      return EXIT.passed
    }
    if (!ctx.json) log(`stampede: run ${started.id} ${started.status} in ${started.location}${started.rawSamples ? ' (with raw samples)' : ''}`)
    if (cancelRequested) requestCancel()
    const final = await Promise.race([follow(ctx, started), stopped])
    if (typeof final === 'number') return final
    out(ctx, () => `\n${formatResults(final)}`, final)
    const code = exitCodeForRun(final)
    if (!junit) return code
    const checks = await checksOf(ctx, final)
    const { runJunitXml } = await import('./junit.ts')
    return await writeJunit(ctx, junit, runJunitXml(final, { name: values.test ?? file, checks, apiUrl: client.url, summaryText: formatResults(final) }), code)
  } finally {
    removeInterrupt()
  }
}

interface JunitTarget {
  /** As given, for messages. */
  file: string
  full: string
}

/** --junit <file>: its folder must exist before the run starts, so a typo does not cost a load test. */
async function junitTarget(io: CliIo, file: string): Promise<JunitTarget> {
  if (file.trim() === '') throw new UsageError('--junit: expected a file name')
  const full = path.resolve(io.cwd, file)
  const dir = path.dirname(full)
  const info = await stat(dir).catch(() => null)
  if (!info?.isDirectory()) throw new UsageError(`--junit ${file}: the folder ${dir} does not exist`)
  if ((await stat(full).catch(() => null))?.isDirectory()) throw new UsageError(`--junit ${file}: is a folder, not a file`)
  return { file, full }
}

/**
 * Writes the report; returns the exit code. A report that cannot be written is bad usage (2, as
 * an unreadable script is) when the run passed; a failed run keeps its own code.
 */
async function writeJunit(ctx: Ctx, target: JunitTarget, xml: string, code: number): Promise<number> {
  try {
    await writeFile(target.full, xml, 'utf8')
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    ctx.io.stderr.write(`stampede: cannot write the JUnit report to ${target.file} (${why})${code === EXIT.passed ? '' : '; the exit code is the run\'s'}\n`)
    return code === EXIT.passed ? EXIT.usage : code
  }
  if (!ctx.json) ctx.io.stderr.write(`stampede: wrote the JUnit report to ${target.file}\n`)
  return code
}

/**
 * The run's checks, one by one, from its k6 summary (the `summary` artifact, stored moments after
 * the result: waited for up to 15 s); else only the run's totals, with the reason.
 */
async function checksOf(ctx: Ctx, finished: Run): Promise<ChecksSource> {
  const totals = (reason: string): ChecksSource => ({ kind: 'totals', reason })
  try {
    let run = finished
    const deadline = Date.now() + SUMMARY_WAIT_MS
    while (!run.artifacts.summary && run.artifactsPending && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      run = await ctx.client.runs.byId.query({ id: run.id })
    }
    if (!run.artifacts.summary) return totals(run.artifactsPending ? 'the run\'s k6 summary is not stored yet' : 'the run has no k6 summary')
    const link = await ctx.client.runs.artifactUrl.query({ runId: run.id, name: 'summary' })
    const res = await fetch(link.url)
    if (!res.ok) return totals(`the run's k6 summary could not be downloaded: HTTP ${res.status}`)
    const summary = k6SummarySchema.safeParse(await res.json())
    if (!summary.success) return totals('the run\'s k6 summary is not in the format of k6\'s summary export')
    const { checksOfSummary } = await import('./junit.ts')
    return { kind: 'summary', checks: checksOfSummary(summary.data) }
  } catch (err) {
    return totals(`the run's k6 summary could not be read: ${(err as Error).message}`)
  }
}
const SUMMARY_WAIT_MS = 15_000

/** Streams the console with a progress line until the run ends; resolves with the final run. */
async function follow(ctx: Ctx, started: Run): Promise<Run> {
  const { io, client } = ctx
  const progress: Progress = {}
  let status: Run['status'] = started.status
  let runningSince: number | undefined = status === 'running' ? Date.now() : undefined
  // The console goes to stdout; in --json mode stdout is reserved for the result, so stderr.
  const consoleOut = ctx.json ? io.stderr : io.stdout
  const live = Boolean(io.stderr.isTTY) && !ctx.json
  let shown = false
  const line = () => formatProgress(progress, status, runningSince === undefined ? 0 : Date.now() - runningSince)
  const clear = () => {
    if (shown) io.stderr.write('\r\x1b[2K')
    shown = false
  }
  const draw = () => {
    if (!live || status !== 'running') return
    io.stderr.write(`\r\x1b[2K${line()}`)
    shown = true
  }
  // On a terminal the line is redrawn every second; in CI logs it is printed every 10 s.
  let ticks = 0
  const timer = setInterval(() => {
    ticks++
    if (live) draw()
    else if (!ctx.json && status === 'running' && ticks % 10 === 0) io.stderr.write(`[progress] ${line()}\n`)
  }, 1000)
  try {
    const statusPrinter = newStatusPrinter(ctx)
    // With the metric frames: the progress line shows live requests/s, p95 and the error rate.
    for await (const event of client.followConsole(started.id, { metrics: true, onReconnect: ({ reason }) => !ctx.json && io.stderr.write(`[console reconnecting: ${reason}]\n`) })) {
      if (event.type === 'metrics') {
        updateMetrics(progress, event.frames)
        continue
      }
      clear()
      if (event.type === 'status') statusPrinter(event)
      else printEvent(ctx, consoleOut, event, started.id)
      if (event.type === 'lines') for (const l of event.lines) updateProgress(progress, l.text)
      if (event.type === 'status') {
        if (event.status === 'running' && runningSince === undefined) runningSince = Date.now()
        status = event.status
      }
      draw()
    }
  } finally {
    clearInterval(timer)
    clear()
  }
  // The console has ended; the recorded result may trail it by a moment.
  return client.waitForRun(started.id, { pollIntervalMs: 250, timeoutMs: 120_000 })
}

function printEvent(ctx: Ctx, to: Writable, event: ConsoleEvent, runId: string): void {
  switch (event.type) {
    case 'lines':
      // One write per message: a tick's lines arrive together.
      to.write(event.lines.map((l) => `${l.text}\n`).join(''))
      break
    case 'gap':
      to.write(`[console lines ${event.from}–${event.to} were not relayed (${event.reason}); they follow from the stored log once it is there; the complete log: stampede runs logs ${runId}]\n`)
      break
    case 'fill':
      // Lines of an earlier gap, printed where they arrive: the marker says where they belong.
      if (event.lines.length === 0) break
      to.write(`[console lines ${event.from}–${event.to}, from the stored log:]\n`)
      for (const line of event.lines) to.write(`${line.text}\n`)
      break
    case 'end':
      if (!ctx.json) ctx.io.stderr.write(`[${STATUS_WORDS[event.status]}]\n`)
      break
  }
}

/**
 * Prints a status when it changes (not every repeat), and a silent runner once when it goes
 * quiet and once when it answers again, not each second it stays quiet.
 */
function newStatusPrinter(ctx: Ctx): (event: Extract<ConsoleEvent, { type: 'status' }>) => void {
  let shown: string | undefined
  let silent = false
  return (event) => {
    if (ctx.json) return
    const key = `${event.status} ${event.waitingForRunner}`
    if (key !== shown) {
      shown = key
      ctx.io.stderr.write(`[${event.status}${event.waitingForRunner ? ': waiting for a runner in this location' : ''}]\n`)
    }
    const quiet = event.runnerSilentSeconds !== undefined
    if (quiet && !silent) ctx.io.stderr.write(`[runner not responding for ${event.runnerSilentSeconds} s]\n`)
    else if (!quiet && silent && event.status === 'running') ctx.io.stderr.write('[runner responding again]\n')
    silent = quiet
  }
}

async function testsCommand(ctx: Ctx, args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === 'list') {
    const { positionals } = parse(rest, {})
    if (positionals.length) throw new UsageError('tests list takes no arguments')
    const tests = await ctx.client.tests.list.query()
    out(ctx, () => (tests.length ? formatTests(tests) : 'no saved tests'), tests)
    return EXIT.passed
  }
  if (sub === 'push') {
    const { values, positionals } = parse(rest, { name: { type: 'string' }, description: { type: 'string' }, ...RAW_SAMPLES_OPTIONS })
    const file = onePositional(positionals, 'script file')
    if (!values.name) throw new UsageError('--name <name> is required')
    const rawSamples = rawSamplesOption(values)
    const script = await readScript(ctx.io, file)
    const { test, created } = await pushTest(ctx.client, values.name, script, values.description, rawSamples)
    out(ctx, () => `${created ? 'created' : 'updated'} test "${test.name}" ${test.id}`, test)
    return EXIT.passed
  }
  throw new UsageError(`tests: expected "list" or "push"${sub ? `, got "${sub}"` : ''}`)
}

async function runsCommand(ctx: Ctx, args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const { client } = ctx
  switch (sub) {
    case 'list': {
      const { values, positionals } = parse(rest, { test: { type: 'string' }, status: { type: 'string' }, location: { type: 'string' }, limit: { type: 'string' } })
      if (positionals.length) throw new UsageError('runs list takes no positional arguments')
      const input: Exclude<RunListInput, void | undefined> = {}
      if (values.test) input.testId = await resolveTestId(client, values.test)
      if (values.status) input.status = values.status as typeof input.status
      if (values.location) input.location = values.location
      if (values.limit) input.limit = Number(values.limit)
      const page = await client.runs.list.query(input)
      out(ctx, () => (page.items.length ? formatRunList(page.items) : 'no runs'), page)
      return EXIT.passed
    }
    case 'show': {
      const { positionals } = parse(rest, {})
      const run = await client.runs.byId.query({ id: onePositional(positionals, 'run id') })
      out(ctx, () => formatResults(run), run)
      return EXIT.passed
    }
    case 'cancel': {
      const { positionals } = parse(rest, {})
      const run = await client.runs.cancel.mutate({ id: onePositional(positionals, 'run id') })
      out(ctx, () => `run ${run.id}: ${run.status === 'queued' || run.status === 'running' ? 'cancelling' : `already ${run.status}`}`, run)
      return EXIT.passed
    }
    case 'logs': {
      const { values, positionals } = parse(rest, { follow: { type: 'boolean', short: 'f', default: false } })
      const id = onePositional(positionals, 'run id')
      const run = await client.runs.byId.query({ id })
      if (!values.follow && (run.status === 'queued' || run.status === 'running')) {
        throw new UsageError(`run ${id} is still ${run.status}: add --follow to stream its console until it ends`)
      }
      for await (const event of client.followConsole(id)) {
        if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(event)}\n`)
        else if (event.type === 'lines' || event.type === 'gap' || event.type === 'fill') printEvent(ctx, ctx.io.stdout, event, id)
      }
      return EXIT.passed
    }
  }
  throw new UsageError(`runs: expected "list", "show", "cancel" or "logs"${sub ? `, got "${sub}"` : ''}`)
}

async function locationsCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { positionals } = parse(args, {})
  if (positionals.length) throw new UsageError('locations takes no arguments')
  const locations = await ctx.client.locations.list.query()
  out(ctx, () => formatLocations(locations), locations)
  return EXIT.passed
}

async function jobsCommand(ctx: Ctx, args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const { positionals } = parse(rest, {})
  if (sub === 'list') {
    if (positionals.length) throw new UsageError('jobs list takes no arguments')
    const jobs = await ctx.client.jobs.list.query()
    out(ctx, () => (jobs.length ? formatJobs(jobs) : 'no jobs'), jobs)
    return EXIT.passed
  }
  if (sub === 'trigger') {
    const nameOrId = onePositional(positionals, 'job name or id')
    const jobs = await ctx.client.jobs.list.query()
    const job = jobs.find((j) => j.id === nameOrId) ?? jobs.find((j) => j.name === nameOrId)
    if (!job) throw new StampedeApiError(`no job is named "${nameOrId}"`, 'NOT_FOUND', 404, 'jobs.list')
    const result = await ctx.client.jobs.trigger.mutate({ id: job.id })
    out(ctx, () => `job "${job.name}" ${job.id}: ${result.message}`, { ...result, name: job.name })
    return EXIT.passed
  }
  throw new UsageError(`jobs: expected "list" or "trigger"${sub ? `, got "${sub}"` : ''}`)
}

const COMMANDS: Record<string, (ctx: Ctx, args: string[]) => Promise<number>> = {
  jobs: jobsCommand,
  run: runCommand,
  validate: validateCommand,
  tests: testsCommand,
  runs: runsCommand,
  locations: locationsCommand,
}

function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage
  // This CLI and the API do not speak the same API version: the API cannot take its requests.
  if (err instanceof StampedeVersionError) return EXIT.refused
  if (err instanceof ScriptFileError) return EXIT.scriptError
  if (err instanceof StampedeConnectionError) return EXIT.unreachable
  if (err instanceof StampedeApiError) {
    if (err.code === 'BAD_REQUEST' && /^script\b/.test(err.message)) return EXIT.scriptError
    return err.code === 'INTERNAL_SERVER_ERROR' ? EXIT.platformError : EXIT.refused
  }
  if (err instanceof StampedeConsoleError || err instanceof StampedeError) return EXIT.platformError
  return EXIT.platformError
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv
  const json = args.includes('--json') || command === '--json'
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(HELP)
      return command ? EXIT.passed : EXIT.usage
    }
    if (command === '--version' || command === 'version') {
      io.stdout.write(json ? `${JSON.stringify({ version: SDK_VERSION, apiCompat: API_COMPAT }, null, 2)}\n` : `stampede ${SDK_VERSION} (API compatibility level ${API_COMPAT})\n`)
      return EXIT.passed
    }
    const handler = COMMANDS[command]
    if (!handler) throw new UsageError(`unknown command "${command}"`)
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(HELP)
      return EXIT.passed
    }
    // Read --url/--token before the command parses the rest, so every command shares them.
    const { values } = parseArgs({ args, options: GLOBAL_OPTIONS, strict: false, allowPositionals: true })
    const url = (typeof values.url === 'string' ? values.url : undefined) ?? io.env.STAMPEDE_URL ?? 'http://127.0.0.1:4000'
    const token = (typeof values.token === 'string' ? values.token : undefined) ?? io.env.STAMPEDE_TOKEN
    let client: StampedeClient
    try {
      client = createStampedeClient({ url, token, client: 'cli', onWarning: (message) => io.stderr.write(`stampede: warning: ${message}\n`) })
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    return await handler({ io, json, client }, args)
  } catch (err) {
    const code = exitCodeFor(err)
    const message = err instanceof Error ? err.message : String(err)
    io.stderr.write(`stampede: ${message}${code === EXIT.usage ? '\n(stampede --help for usage)' : ''}\n`)
    if (json) {
      const kind = err instanceof StampedeApiError ? { code: err.code, httpStatus: err.httpStatus } : {}
      io.stdout.write(`${JSON.stringify({ error: { type: err instanceof Error ? err.constructor.name : 'Error', message, exitCode: code, ...kind } }, null, 2)}\n`)
    }
    return code
  }
}

/** Entry point for bin/stampede.js. */
export async function run(): Promise<never> {
  const code = await main(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    onInterrupt(handler) {
      const onInt = () => handler('SIGINT')
      const onTerm = () => handler('SIGTERM')
      process.on('SIGINT', onInt)
      process.on('SIGTERM', onTerm)
      return () => {
        process.off('SIGINT', onInt)
        process.off('SIGTERM', onTerm)
      }
    },
  })
  // Flush before exiting: a pipe may still hold the JSON document.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
  process.exit(code)
}
