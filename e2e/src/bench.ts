// `npm run bench`: the run path's performance figures, on real parts (Temporal dev server,
// Postgres, S3-compatible server, real k6 against a local target).
//  1. console relay latency, line written by k6 → received by a WebSocket viewer, p50/p95 at
//     ~100 and ~2,000 lines/s, and lines lost (target p95 ≤ 300 ms, 0 lost);
//  2. runs.start → first request at the target, p50 over 10 runs (target ≤ 300 ms), for a script
//     validated just before (the playground's way) and for one k6 has never loaded;
//  3. requests/s of one script under Stampede ÷ the same script under bare k6 (target ≥ 0.97),
//     every measured run between two bare k6 runs (bench/throughput.ts says why).
// 2 and 3 are measured in two lanes of one platform, alternating run by run: a runner with every
// k6 in its sandbox (the default), and a runner and API with it off (K6_SANDBOX=off), so the
// sandbox's own cost is printed beside them (target: the ratios move by at most 3 %). Each
// lane's location runner is a process of its own, as location runners are deployed (withLanes).
// Then, each on a platform of its own: the console's fan-out to 500 viewers and the relay's
// Temporal polling (bench/console-fanout.ts), and lists over 100,000 runs and the API's memory
// after 5,000 of them (bench/lists.ts). `BENCH_LANES=run-path,throughput,runner-memory,console,lists,metrics` picks lanes
// (runner-memory: a 10-minute run; RUNNER_MEMORY_SECONDS shortens it).
import os from 'node:os'
import path from 'node:path'
import { createServer, loadApiConfig } from '@stampede/api'
import { resolveTool } from '@stampede/tools'
import { loadRunnerConfig, ORCHESTRATION_ONLY } from '@stampede/runner'
import { isTerminal } from '@stampede/shared'
import { tokenClient, type Api } from './clients.ts'
import { followRun, followRunMetrics } from './console-client.ts'
import { startStack, type Stack } from './stack.ts'
import { startTarget, type Target } from './target.ts'
import { runFinished } from './wait.ts'
import { pacedConsoleScript, runConsoleLanes } from './bench/console-fanout.ts'
import { listLanes } from './bench/lists.ts'
import { metricsLane } from './bench/metrics.ts'
import { runnerMemoryLane } from './bench/runner-memory.ts'
import { startRunnerProcess, type RunnerProcess } from './bench/runner-process.ts'
import { startTargetProcess } from './bench/target-process.ts'
import { bareK6, pairedThroughput, sandboxedK6, SCRIPTS, type Variant } from './bench/throughput.ts'
import { fmt, quantile } from './bench/stats.ts'

const finished = (stack: Stack, id: string) => runFinished(stack.api, id, 300_000)

async function consoleLatency(stack: Stack, linesPerSecond: number, seconds: number) {
  const { script, total } = pacedConsoleScript(linesPerSecond, seconds)
  const { id } = await stack.api.runs.start.mutate({ script, location: 'us-east' })
  const latencies: number[] = []
  const seen = new Set<number>()
  let firstAt = 0
  let lastAt = 0
  let gaps = 0
  // Followed as the CLI and the web app follow it (the SDK): lines it fills after a gap or a
  // reconnect come as `fill`, not as live deliveries.
  const viewer = followRun(stack, id, {
    onEvent: (m) => {
      if (m.type === 'gap') gaps += m.to - m.from + 1
      if (m.type !== 'lines') return
      const now = Date.now()
      for (const line of m.lines) {
        const match = /bench (\d+) (\d+)/.exec(line.text)
        if (!match) continue
        const n = Number(match[1])
        // Lines replayed from the archive after the run ended are not live deliveries.
        if (!seen.has(n)) {
          seen.add(n)
          latencies.push(now - Number(match[2]))
          firstAt ||= Number(match[2])
          lastAt = Number(match[2])
        }
      }
    },
  })
  const end = await viewer.waitFor((m) => m.type === 'end', 300_000)
  await finished(stack, id)
  latencies.sort((a, b) => a - b)
  const achieved = latencies.length / Math.max(0.001, (lastAt - firstAt) / 1000)
  return { target: linesPerSecond, achieved, total, received: seen.size, lost: total - seen.size, gaps, p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), end }
}

/** Where a run goes: an API and a location, whose runner has the sandbox on or off. */
interface Lane {
  name: 'sandboxed' | 'unsandboxed' | 'sandboxed, no HTML report'
  api: Api
  location: string
}

/**
 * k6's exit (the run's finishedAt, taken by the runner when k6 exits; same machine, same clock)
 * → the API first answers the run final with its artifacts attached. Polled every 10 ms.
 */
/**
 * Metric frame → WebSocket viewer: a frame is written by k6 when its period ends (`end`); the
 * latency is its arrival at a viewer (`metrics=0`) minus that end. Frames that reach the viewer
 * only at the run's end (from the stored artifact) are not live deliveries and are counted apart.
 */
async function metricsLatency(stack: Stack, target: Target, seconds: number) {
  const script = `
    import http from 'k6/http'
    import { sleep } from 'k6'
    export const options = { vus: 10, duration: '${seconds}s' }
    export default function () { http.get('${target.url}/metrics-lane'); sleep(0.05) }`
  const { id } = await stack.api.runs.start.mutate({ script, location: 'us-east' })
  const latencies: number[] = []
  let atEnd = 0
  let ended = false
  // Followed with the SDK's followMetrics, as the CLI and the web app's charts follow it.
  const viewer = followRunMetrics(stack, id, {
    onEvent: (m) => {
      if (m.type === 'status' && isTerminal(m.status)) ended = true
      if (m.type !== 'metrics') return
      const now = Date.now()
      for (const frame of m.frames) {
        if (ended || frame.final) atEnd++
        else latencies.push(now - frame.end)
      }
    },
  })
  await viewer.waitFor((m) => m.type === 'end', 300_000)
  await finished(stack, id)
  latencies.sort((a, b) => a - b)
  return { live: latencies.length, atEnd, p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), max: latencies.at(-1) ?? NaN }
}

async function exitToFinal(lane: Lane, runs: number): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const { id } = await lane.api.runs.start.mutate({ script: `export default function () { console.log('bench ${i}') }`, location: lane.location })
    const run = await runFinished(lane.api, id, 300_000, 10)
    const seenAt = Date.now()
    if (!run.finishedAt || !run.artifacts.log) throw new Error(`run ${id} ended ${run.status} without its console log`)
    times.push(seenAt - Date.parse(run.finishedAt))
  }
  return times
}

/**
 * runs.start → first request at the target, alternating the lanes run by run (noise hits both
 * alike). Every run has a script of its own (a numbered comment), validated first as the
 * playground validates while it is edited, or (`fresh`) never seen before, so k6 loads it in
 * runs.start's validation.
 */
async function startToFirstRequest(lanes: Lane[], target: Target, runs: number, fresh: boolean): Promise<Map<Lane, number[]>> {
  const times = new Map(lanes.map((l) => [l, [] as number[]]))
  for (let i = 0; i < runs; i++) {
    for (const lane of lanes) {
      const script = `// ${lane.name} ${fresh ? 'fresh' : 'validated'} ${i} ${Date.now()}
    import http from 'k6/http'
    export const options = { iterations: 1 }
    export default function () { http.get('${target.url}/first') }`
      if (!fresh) await lane.api.scripts.validate.mutate({ script })
      const arrived = target.nextRequest()
      const t0 = Date.now()
      const { id } = await lane.api.runs.start.mutate({ script, location: lane.location })
      times.get(lane)!.push((await arrived) - t0)
      await runFinished(lane.api, id, 300_000)
    }
  }
  return times
}

/**
 * One platform, three lanes, each location served by a location runner in a process of its own
 * (RUNNER_ORCHESTRATION=false, no platform credentials), as location runners are deployed; the
 * API, the orchestrating runner (serving a location of its own that no lane uses) and S3 stay in
 * this process. us-east's runner keeps every k6 in the sandbox (the default); eu-central's runner
 * and a second API have it off (K6_SANDBOX=off), validation included; asia-pacific's runner is
 * sandboxed and writes no HTML report (K6_HTML_REPORT=false).
 */
async function withLanes(body: (p: { stack: Stack; lanes: [Lane, Lane]; noReport: Lane; runners: RunnerProcess[] }) => Promise<void>) {
  const locations = 'us-east:US East:Virginia,eu-central:EU Central:Frankfurt,asia-pacific:Asia Pacific:Singapore,platform:Platform:The platform host'
  // BENCH_SWAP_REPORT=1: the first runner (us-east) writes no HTML report and the third
  // (asia-pacific) does, to tell a lane's place among the runners from its setting.
  const swap = process.env.BENCH_SWAP_REPORT === '1'
  const [reportAt, noReportAt] = swap ? ['asia-pacific', 'us-east'] : ['us-east', 'asia-pacific']
  const noReportEnv = { K6_HTML_REPORT: 'false' }
  const stack = await startStack({
    locations,
    api: { RUN_TIMEOUT_SECONDS: '600' },
    runner: { ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: 'platform' },
  })
  const runners: RunnerProcess[] = []
  const open = await createServer(loadApiConfig({ ...stack.env, LOCATIONS: locations, API_PORT: '0', K6_SANDBOX: 'off', RUN_TIMEOUT_SECONDS: '600', API_TOKEN_RATE_LIMIT: '100000', VALIDATION_RATE_LIMIT: '100000' }))
  try {
    const locationRunner = (location: string, extra: Record<string, string>) => {
      // Without the settings only an orchestrating runner uses, as a location runner is deployed.
      const env = Object.fromEntries(Object.entries(stack.env).filter(([k]) => !(ORCHESTRATION_ONLY as readonly string[]).includes(k)))
      // A work directory (and so a runner identity) of its own.
      const workDir = path.join(path.dirname(stack.env.RUNNER_WORK_DIR!), `work-${location}`)
      return startRunnerProcess({ ...env, RUNNER_WORK_DIR: workDir, RUNNER_ORCHESTRATION: 'false', ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: location, ...extra })
    }
    runners.push(await locationRunner('us-east', swap ? noReportEnv : {}))
    runners.push(await locationRunner('eu-central', { K6_SANDBOX: 'off' }))
    runners.push(await locationRunner('asia-pacific', swap ? {} : noReportEnv))
    const lanes: [Lane, Lane] = [
      { name: 'sandboxed', api: stack.api, location: reportAt },
      { name: 'unsandboxed', api: tokenClient(await open.start(), stack.token), location: 'eu-central' },
    ]
    const noReport: Lane = { name: 'sandboxed, no HTML report', api: stack.api, location: noReportAt }
    console.log(`[bench] lanes: HTML report on ${reportAt}'s runner, off on ${noReportAt}'s (BENCH_SWAP_REPORT=1 swaps them); each location's runner in a process of its own`)
    // Warm-up: the first run pays for k6's first start and the workflow's first task.
    for (const lane of [...lanes, noReport]) await runFinished(lane.api, (await lane.api.runs.start.mutate({ script: 'export default function () {}', location: lane.location })).id, 300_000)
    await body({ stack, lanes, noReport, runners })
  } finally {
    for (const r of runners) await r.stop().catch((err: unknown) => console.warn(`[bench] stopping a runner: ${(err as Error).message}`))
    await open.stop()
    await stack.stop()
  }
}

/** The run path's latencies: console relay, metric frames, exit → final, start → first request. */
async function runPathLanes() {
  const target = await startTarget()
  try {
    await withLanes(async ({ stack, lanes }) => {
      console.log('\n== console relay latency (k6 line written → WebSocket viewer; sandboxed)')
      for (const rate of [100, 2000]) {
        const r = await consoleLatency(stack, rate, 10)
        console.log(
          `  ${rate} lines/s (achieved ${fmt(r.achieved)}): p50 ${fmt(r.p50)} ms, p95 ${fmt(r.p95)} ms, ` +
            `lines ${r.received}/${r.total}, lost ${r.lost}, gap lines reported ${r.gaps}`,
        )
      }

      console.log('\n== metric frame (end of its period) → WebSocket viewer (one 20 s run, 10 VUs, sandboxed)')
      const m = await metricsLatency(stack, target, 20)
      console.log(`  live frames ${m.live} (+${m.atEnd} at the end from the stored frames): p50 ${fmt(m.p50)} ms, p95 ${fmt(m.p95)} ms, max ${fmt(m.max)} ms (target p95 ≤ 1500 ms)`)

      console.log('\n== k6 exit → run final with its artifacts stored (10 runs, sandboxed)')
      const finals = (await exitToFinal(lanes[0], 10)).sort((a, b) => a - b)
      console.log(`  p50 ${fmt(quantile(finals, 0.5))} ms, p95 ${fmt(quantile(finals, 0.95))} ms, max ${finals.at(-1)} ms (target ≤ 2000 ms)`)

      for (const fresh of [false, true]) {
        console.log(`\n== runs.start → first request at the target, ${fresh ? 'a script never validated before (k6 loads it in runs.start)' : 'a script validated just before, as the playground does'} (10 runs per lane, alternating)`)
        const measured = await startToFirstRequest(lanes, target, 10, fresh)
        for (const lane of lanes) {
          const t = [...measured.get(lane)!].sort((a, b) => a - b)
          // The validated lane's p50 is the target's (the playground's way); sandboxed against unsandboxed is the sandbox's cost.
          console.log(`  ${lane.name}: p50 ${fmt(quantile(t, 0.5))} ms, p95 ${fmt(quantile(t, 0.95))} ms, min ${t[0]} ms, max ${t.at(-1)} ms${fresh ? '' : ' (target p50 ≤ 300 ms)'}`)
        }
      }
    })
  } finally {
    await target.stop()
  }
}

/**
 * The throughput lane's variants, all by default; `BENCH_THROUGHPUT_VARIANTS=no-report,sandbox`
 * measures only those (more rounds of one figure in the same time).
 */
function throughputVariants(all: Record<'frames' | 'sandbox' | 'sandboxed' | 'unsandboxed' | 'no-report', Variant>): Variant[] {
  const keys = process.env.BENCH_THROUGHPUT_VARIANTS?.split(',').map((k) => k.trim()).filter(Boolean) ?? Object.keys(all)
  const unknown = keys.filter((k) => !(k in all))
  if (unknown.length > 0 || keys.length === 0) throw new Error(`BENCH_THROUGHPUT_VARIANTS: unknown variant ${unknown.join(', ') || '(none given)'}; the variants are ${Object.keys(all).join(', ')}`)
  return Object.entries(all).flatMap(([k, v]) => (keys.includes(k) ? [v] : []))
}

/** Requests/s under Stampede ÷ bare k6, paced and saturating, with and without the sandbox and the HTML report. */
async function throughputLanes() {
  const k6 = await resolveTool('k6')
  // The target in a process of its own (see bench/target-process.ts).
  const target = await startTargetProcess()
  try {
    await withLanes(async ({ stack, lanes, noReport, runners }) => {
      console.log('\n== throughput: requests/s under Stampede ÷ the same script under bare k6 (paced 8 s, saturating 15 s each; every run between two bare k6 runs)')
      const plain = (kind: keyof typeof SCRIPTS) => () => bareK6(k6.path, SCRIPTS[kind](target.url), false)
      const viaStampede = (lane: Lane): Variant => ({ name: lane.name, run: async (script) => (await runFinished(lane.api, (await lane.api.runs.start.mutate({ script, location: lane.location })).id, 300_000, 1000)).metrics.httpReqRate ?? 0 })
      const [on, off] = lanes.map(viaStampede) as [Variant, Variant]
      const offReport = viaStampede(noReport)
      const framesOnly: Variant = { name: 'bare k6 with the metric frames only', run: (script) => bareK6(k6.path, script, true, false) }
      const sandboxOnly: Variant = { name: 'k6 in the sandbox, no platform around it', run: sandboxedK6(k6.path, path.join(stack.env.RUNNER_WORK_DIR ?? os.tmpdir(), 'bench-sandbox'), loadRunnerConfig({ ...stack.env })) }
      const variants = throughputVariants({ frames: framesOnly, sandbox: sandboxOnly, sandboxed: on, unsandboxed: off, 'no-report': offReport })
      const stampede = [on, off, offReport].filter((v) => variants.includes(v))
      const paced = stampede.length > 0 ? await pairedThroughput('paced', target.url, plain('paced'), stampede, 5, runners.map((r) => r.pid)) : new Map<string, number>()
      // BENCH_THROUGHPUT_ROUNDS: more rounds narrow the medians (one pair varies by about ±5 % here).
      const rounds = Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? 5)
      const saturating = await pairedThroughput('saturating', target.url, plain('saturating'), variants, rounds, runners.map((r) => r.pid))

      const ratio = (m: Map<string, number>, v: Variant) => (m.has(v.name) ? fmt(m.get(v.name)!, 3) : 'not measured')
      const change = (m: Map<string, number>) => (m.has(on.name) && m.has(off.name) ? ` (${fmt(((m.get(on.name)! - m.get(off.name)!) / m.get(off.name)!) * 100, 1)} %; target within 3 %)` : '')
      console.log('\n== the sandbox\'s cost (sandboxed vs K6_SANDBOX=off, same platform, alternating)')
      console.log(`  paced throughput ratio: ${ratio(paced, on)} sandboxed, ${ratio(paced, off)} without${change(paced)}`)
      console.log(`  saturating throughput ratio: ${ratio(saturating, on)} sandboxed, ${ratio(saturating, off)} without${change(saturating)}`)
      console.log('\n== where a saturating run\'s requests go (medians of the paired ratios)')
      console.log(`  the metric frames: ${ratio(saturating, framesOnly)}; k6 in its sandbox as the runner starts it: ${ratio(saturating, sandboxOnly)}; the whole platform around it (no HTML report): ${ratio(saturating, offReport)}`)
      console.log('\n== Stampede ÷ bare k6 with the metric frames (sandboxed)')
      console.log(`  saturating: ${ratio(saturating, on)} with the HTML report (target ≥ 0.88), ${ratio(saturating, offReport)} without it (target ≥ 0.97); paced: ${ratio(paced, on)} (target ≥ 0.99)`)
    })
  } finally {
    await target.stop()
  }
}

/** Lanes by name; `BENCH_LANES=console,lists npm run bench` runs some of them (default: all, in this order). */
const LANES: Record<string, () => Promise<void>> = {
  'run-path': runPathLanes,
  throughput: throughputLanes,
  'runner-memory': runnerMemoryLane,
  console: runConsoleLanes,
  lists: async () => {
    const stack = await startStack({ runner: false })
    try {
      await listLanes(stack, { runs: Number(process.env.LIST_BENCH_RUNS ?? 100_000) })
    } finally {
      await stack.stop()
    }
  },
  metrics: async () => {
    const stack = await startStack({ runner: false })
    try {
      await metricsLane(stack)
    } finally {
      await stack.stop()
    }
  },
}

async function main() {
  const names = process.env.BENCH_LANES ? process.env.BENCH_LANES.split(',').map((n) => n.trim()) : Object.keys(LANES)
  const unknown = names.filter((n) => !LANES[n])
  if (unknown.length > 0) throw new Error(`BENCH_LANES: unknown lane ${unknown.join(', ')}; the lanes are ${Object.keys(LANES).join(', ')}`)
  for (const name of names) await LANES[name]!()
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
