// stampede run <script>: collects and uploads the files the script needs (or a k6 archive),
// validates, uploads and starts the script in a location, streams its console
// with a progress line, prints the results and exits with the run's outcome (and --junit writes
// them as JUnit XML). Ctrl-C and SIGTERM: run-interrupt.ts.
import { stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { k6SummarySchema } from '@stampede/shared/k6'
import type { Run } from '@stampede/sdk'
import { out, parse, UsageError, type CliIo, type Command, type CommandContext } from '../context.ts'
import { EXIT, exitCodeForRun } from '../exit-codes.ts'
import { follow } from '../follow.ts'
import { formatResults } from '../format.ts'
// junit.ts (and xmlbuilder2, ~150 ms to load) is imported only by runs with --junit.
import type { ChecksSource } from '../junit.ts'
import { watchInterrupts } from './run-interrupt.ts'
import { pushTest, RAW_SAMPLES_OPTIONS, rawSamplesOption, readScript, validate, type TestEntry } from './shared.ts'
import { collectAndUpload, scriptOrArchive, uploadArchive } from './test-files.ts'

const usage = [
  'stampede run (<script.js|.ts> | --archive <file.tar>) --location <id> [--test <name>] [--env K=V]... [--timeout <s>] [--raw-samples | --no-raw-samples] [--junit <file>] [--detach] [--yes]',
]

/** The help text's paragraphs on validate and run. */
const notes = `validate checks the script on the API (syntax, k6's own load of it, the platform's VU and
duration caps) without running it. run validates the same way, uploads the script (as the saved test <name> with --test, else as an unsaved script), starts
it in the location, streams k6's console with a progress line on stderr, prints the results and
exits with the run's outcome. --env K=V sets __ENV.K for this run (repeatable). --detach prints
the run id and exits 0 at once. Ctrl-C cancels the run, after asking once when stdin is a
terminal (--yes: without asking); a second Ctrl-C stops waiting for the cancelled run. SIGTERM
(a CI job being stopped) cancels it without asking.

Files: run and tests push upload the files the script needs with it: the local modules it
imports (import, export … from, import("…"), require("…"), followed through every module) and
the files it reads with open("…"), at their paths relative to the script's folder. Only files
the project does not have yet are sent; the CLI prints each file and what it uploaded. A file
outside the script's folder (a "../" too far, a symlink out of it) or a missing one is refused
with where it is referenced; move the file under the script's folder. A path computed at run
time (open(name)) cannot be collected: the CLI warns; write it as a literal path. Or build a
k6 archive (k6 archive script.js) and pass --archive <file.tar> instead of a script: it holds
the script and every file it needs, and runs as it is.

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
cannot be written the CLI says so and exits 2, or with the run's own code when that is not 0.`

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

async function runCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    location: { type: 'string', short: 'l' },
    test: { type: 'string' },
    env: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    detach: { type: 'boolean', default: false },
    yes: { type: 'boolean', short: 'y', default: false },
    junit: { type: 'string' },
    archive: { type: 'string' },
    ...RAW_SAMPLES_OPTIONS,
  })
  const { file, archive } = scriptOrArchive(values.archive, positionals)
  if (!values.location) throw new UsageError('--location <id> is required (see `stampede locations`)')
  if (values.junit !== undefined && values.detach) throw new UsageError('--junit needs the run\'s result; it cannot be combined with --detach')
  const junit = values.junit === undefined ? undefined : await junitTarget(ctx.io, values.junit)
  const rawSamples = rawSamplesOption(values)
  const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout)
  if (timeoutSeconds !== undefined && !Number.isInteger(timeoutSeconds)) throw new UsageError(`--timeout ${values.timeout}: expected whole seconds`)
  const env = parseEnv(values.env)
  const script = archive ? undefined : await readScript(ctx.io, file)
  const { io, client } = ctx
  const log = (s: string) => io.stderr.write(`${s}\n`)

  // Ctrl-C may come at any time, even before the run exists: remember it and act once it does.
  const interrupts = watchInterrupts(io, client, values.yes)
  try {
    let entry: TestEntry
    if (script === undefined) entry = { archive: await uploadArchive(ctx, file) }
    else {
      const files = await collectAndUpload(ctx, file)
      const validation = await validate(ctx, file, script, true, files)
      if (!validation.ok) {
        if (ctx.json) out(ctx, () => '', { validation: validation.result })
        if (!junit) return EXIT.scriptError
        const { validationJunitXml } = await import('../junit.ts')
        return await writeJunit(ctx, junit, validationJunitXml(values.test ?? file, file, validation.result), EXIT.scriptError)
      }
      entry = { script, files }
    }
    let testId: string | undefined
    if (values.test !== undefined) {
      const { test, created } = await pushTest(client, values.test, entry)
      testId = test.id
      if (!ctx.json) log(`stampede: ${created ? 'created' : 'updated'} test "${test.name}" (${test.id})`)
    }
    // The run's setting, not the test's: without an option, a saved test's own setting applies.
    const common = { location: values.location, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}), ...(env ? { env } : {}), ...(rawSamples !== undefined ? { rawSamples } : {}) }
    const unsaved = 'archive' in entry ? { archive: entry.archive } : { script: entry.script, ...(entry.files.length > 0 ? { files: entry.files } : {}) }
    const started = await client.runs.start.mutate(testId ? { ...common, testId } : { ...common, ...unsaved })
    interrupts.started(started.id)
    if (values.detach) {
      out(ctx, () => started.id, started)
      return EXIT.passed
    }
    if (!ctx.json) log(`stampede: run ${started.id} ${started.status} in ${started.location}${started.rawSamples ? ' (with raw samples)' : ''}`)
    interrupts.cancelIfRequested()
    const final = await Promise.race([follow(ctx, started), interrupts.stopped])
    if (typeof final === 'number') return final
    out(ctx, () => `\n${formatResults(final)}`, final)
    const code = exitCodeForRun(final)
    if (!junit) return code
    const checks = await checksOf(ctx, final)
    const { runJunitXml } = await import('../junit.ts')
    return await writeJunit(ctx, junit, runJunitXml(final, { name: values.test ?? file, checks, apiUrl: client.url, summaryText: formatResults(final) }), code)
  } finally {
    interrupts.remove()
  }
}

export const command: Command = { usage, notes, handler: runCommand }

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
async function writeJunit(ctx: CommandContext, target: JunitTarget, xml: string, code: number): Promise<number> {
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
async function checksOf(ctx: CommandContext, finished: Run): Promise<ChecksSource> {
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
    const { checksOfSummary } = await import('../junit.ts')
    return { kind: 'summary', checks: checksOfSummary(summary.data) }
  } catch (err) {
    return totals(`the run's k6 summary could not be read: ${(err as Error).message}`)
  }
}
const SUMMARY_WAIT_MS = 15_000
