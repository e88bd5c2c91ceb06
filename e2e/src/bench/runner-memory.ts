// Benchmark lane `runner-memory`: the runner's memory over a long CPU-bound run (target: its RSS
// flat within 50 MB after the first minute). A platform of its own (startStack, no runner in this
// process) and one runner in a Node process of its own (runner-process.ts), so its RSS is its
// own; one run of RUNNER_MEMORY_SECONDS (default 600) with 4 VUs requesting as fast as they can
// from a target on 127.0.0.1 started here. Every 5 s from k6's start: the runner process's RSS
// and k6's own (both from /proc), and the runner's V8 heap (process.memoryUsage over IPC, no
// collection first). Printed: the runner's RSS at 1 min, its min and max after the first minute
// and their spread against the target, its RSS minute by minute, and k6's RSS growth for information.
import { performance } from 'node:perf_hooks'
import { isTerminal } from '@stampede/shared'
import { startStack } from '../stack.ts'
import { startTargetProcess } from './target-process.ts'
import { runFinished, waitUntil } from '../wait.ts'
import { below, procRss, readProcs } from './proc.ts'
import { startRunnerProcess, type RunnerProcess } from './runner-process.ts'

const TARGET_SPREAD_MB = 50
const SAMPLE_MS = 5_000
const WARM_UP_MS = 60_000
const VUS = 4

const mb = (bytes: number) => bytes / 1024 / 1024
const fmt = (bytes: number | undefined) => (bytes === undefined ? '–' : `${mb(bytes).toFixed(1)} MB`)

interface Sample {
  /** Since k6 started (ms). */
  at: number
  runner: number | undefined
  heapUsed: number | undefined
  /** Every k6 process under the runner, summed (one while a run is in progress). */
  k6: number | undefined
  /** The runner's launcher (the small Node process every k6 is started through, @stampede/sandbox). */
  launcher: number | undefined
}

/** k6 processes under the runner process (in its sandbox: below its launcher and bubblewrap). */
async function k6Pids(runner: RunnerProcess): Promise<number[]> {
  return below(await readProcs(), runner.pid).filter((p) => p.comm === 'k6').map((p) => p.pid)
}

async function sumRss(pids: number[]): Promise<number | undefined> {
  const alive = (await Promise.all(pids.map(procRss))).filter((s): s is number => s !== undefined)
  return alive.length > 0 ? alive.reduce((a, b) => a + b, 0) : undefined
}

async function sample(runner: RunnerProcess, at: number): Promise<Sample> {
  const under = below(await readProcs(), runner.pid)
  const [rss, heap, k6, launcher] = await Promise.all([
    procRss(runner.pid),
    // Never let a busy event loop delay the sample: heap figures are for information.
    Promise.race([runner.memory().then((m) => m.heapUsed), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2_000))]).catch(() => undefined),
    sumRss(under.filter((p) => p.comm === 'k6').map((p) => p.pid)),
    sumRss(under.filter((p) => p.comm === 'node').map((p) => p.pid)),
  ])
  return { at, runner: rss, heapUsed: heap, k6, launcher }
}

/** A CPU-bound script: VUs requesting without a pause, each response checked. */
function cpuBoundScript(url: string, seconds: number): string {
  return `
    import http from 'k6/http'
    import { check } from 'k6'
    export const options = { vus: ${VUS}, duration: '${seconds}s' }
    export default function () {
      const res = http.get('${url}/runner-memory')
      check(res, { 'status is 200': (r) => r.status === 200 })
    }`
}

export async function runnerMemoryLane(): Promise<void> {
  const seconds = Number(process.env.RUNNER_MEMORY_SECONDS ?? 600)
  if (!Number.isInteger(seconds) || seconds < 70) throw new Error(`RUNNER_MEMORY_SECONDS must be a whole number of seconds, at least 70 (the first minute is left out), not ${process.env.RUNNER_MEMORY_SECONDS}`)
  // The target in a process of its own: the tests' in-process target keeps every request's headers.
  const target = await startTargetProcess()
  const stack = await startStack({ runner: false, api: { RUN_TIMEOUT_SECONDS: String(seconds + 600) } })
  let runner: RunnerProcess | undefined
  try {
    runner = await startRunnerProcess({ API_PUBLIC_URL: stack.apiUrl, ...stack.env })
    const idle = await procRss(runner.pid)
    const { id } = await stack.api.runs.start.mutate({ script: cpuBoundScript(target.url, seconds), location: 'us-east' })
    const finished = runFinished(stack.api, id, (seconds + 600) * 1000, 1_000)
    // Surfaced below; until then a failed wait must not be unhandled.
    finished.catch(() => {})

    // k6's start is time zero (runs.start → k6 includes the run's queueing and k6's own start).
    const r = runner
    await waitUntil('k6 to start under the runner', async () => ((await k6Pids(r)).length > 0 ? true : undefined), 120_000, 100)
    const started = performance.now()
    const samples: Sample[] = []
    let ended = false
    void finished.then(
      () => (ended = true),
      () => (ended = true),
    )
    for (let n = 0; ; n++) {
      const s = await sample(r, performance.now() - started)
      if (s.k6 === undefined && n > 0) break
      samples.push(s)
      if (ended) break
      const due = started + (n + 1) * SAMPLE_MS
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())))
    }
    const runMs = samples.at(-1)?.at ?? 0
    const run = await finished
    const requests = run.metrics.httpReqs ?? 0
    const after = await procRss(r.pid)

    const atOneMinute = samples.find((s) => s.at >= WARM_UP_MS)
    const later = samples.filter((s) => s.at >= WARM_UP_MS && s.runner !== undefined)
    const rss = later.map((s) => s.runner!)
    const min = rss.length > 0 ? Math.min(...rss) : undefined
    const max = rss.length > 0 ? Math.max(...rss) : undefined
    const spread = min !== undefined && max !== undefined ? max - min : undefined
    const k6Later = later.filter((s) => s.k6 !== undefined)
    const k6First = k6Later[0]?.k6
    const k6Last = k6Later.at(-1)?.k6
    const k6Max = k6Later.length > 0 ? Math.max(...k6Later.map((s) => s.k6!)) : undefined

    console.log(`\n== runner memory over a ${seconds} s CPU-bound run (${VUS} VUs, no pause, against a target on 127.0.0.1; the runner in a process of its own; target: RSS flat within ${TARGET_SPREAD_MB} MB after the first minute)`)
    console.log(`  run ${run.status}; ${samples.length} samples every ${SAMPLE_MS / 1000} s over ${(runMs / 1000).toFixed(0)} s of k6; ${requests.toLocaleString('en')} requests (k6's count, ${(requests / Math.max(1, runMs / 1000)).toFixed(0)}/s)`)
    console.log(`  runner RSS: ${fmt(idle)} idle before the run, ${fmt(atOneMinute?.runner)} at 1 min, after 1 min min ${fmt(min)} / max ${fmt(max)}, ${fmt(after)} after the run ended`)
    console.log(
      `  runner RSS spread after the first minute (max − min over ${later.length} samples): ${fmt(spread)} (target ≤ ${TARGET_SPREAD_MB} MB)${spread === undefined ? '  NO SAMPLES AFTER THE FIRST MINUTE' : mb(spread) <= TARGET_SPREAD_MB ? '' : '  ABOVE TARGET'}`,
    )
    const minutes = samples.filter((s, i) => i === 0 || Math.floor(s.at / 60_000) > Math.floor(samples[i - 1]!.at / 60_000))
    console.log(`  runner RSS / V8 heap used by minute: ${minutes.map((s) => `${(s.at / 60_000).toFixed(1)} min ${mb(s.runner ?? NaN).toFixed(0)}/${mb(s.heapUsed ?? NaN).toFixed(0)} MB`).join(', ')}`)
    const launchers = samples.filter((s) => s.launcher !== undefined).map((s) => s.launcher!)
    console.log(`  the runner's launcher process (for information): ${launchers.length > 0 ? `${fmt(Math.min(...launchers))} to ${fmt(Math.max(...launchers))}` : 'not seen'}`)
    console.log(`  k6 RSS (for information): ${fmt(samples[0]?.k6)} at its start, ${fmt(k6First)} at 1 min, ${fmt(k6Last)} at its last sample, max ${fmt(k6Max)}; growth after 1 min ${k6First !== undefined && k6Last !== undefined ? fmt(k6Last - k6First) : '–'}`)
    if (!isTerminal(run.status)) throw new Error(`run ${id} did not finish (${run.status})`)
  } finally {
    await runner?.stop()
    await stack.stop()
    await target.stop()
  }
}
