// `npm run bench`: the run path's performance figures, on real parts (Temporal dev server,
// Postgres, S3-compatible server, real k6 against a local target).
//  1. console relay latency, line written by k6 → received by a WebSocket viewer, p50/p95 at
//     ~100 and ~2,000 lines/s, and lines lost (target p95 ≤ 300 ms, 0 lost);
//  2. runs.start → first request at the target, p50 over 10 runs (target ≤ 300 ms);
//  3. requests/s of one script under Stampede ÷ the same script under bare k6 (target ≥ 0.97).
// 2 and 3 are measured twice: with every k6 in its sandbox (the default) and with the sandbox
// off (K6_SANDBOX=off), so the sandbox's own cost is printed beside them (target: the ratios
// move by at most 3 %).
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { resolveTool } from '@stampede/tools'
import { k6Args, k6Env, SCRIPT_FILE } from '@stampede/runner'
import { resolveTargetPolicy } from '@stampede/shared/targets'
import type { ConsoleMessage } from '@stampede/shared'
import { watchConsole } from './console-client.ts'
import { startStack, type Stack } from './stack.ts'
import { startTarget, type Target } from './target.ts'
import { runFinished } from './wait.ts'

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
const fmt = (n: number, digits = 0) => n.toFixed(digits)

const finished = (stack: Stack, id: string) => runFinished(stack.api, id, 300_000)

async function consoleLatency(stack: Stack, linesPerSecond: number, seconds: number) {
  // Each line carries its own write time (ms) and number; the viewer compares with arrival.
  const perBatch = Math.max(1, Math.round(linesPerSecond / 100))
  const batches = Math.round((linesPerSecond * seconds) / perBatch)
  const script = `
    import { sleep } from 'k6'
    export const options = { iterations: 1 }
    export default function () {
      let n = 0
      const start = Date.now()
      for (let b = 0; b < ${batches}; b++) {
        for (let i = 0; i < ${perBatch}; i++) console.log('bench ' + (++n) + ' ' + Date.now())
        const due = start + ((b + 1) * ${perBatch} * 1000) / ${linesPerSecond}
        const wait = due - Date.now()
        if (wait > 0) sleep(wait / 1000)
      }
    }`
  const total = batches * perBatch
  const { id } = await stack.api.runs.start.mutate({ script, location: 'us-east' })
  const latencies: number[] = []
  const seen = new Set<number>()
  let firstAt = 0
  let lastAt = 0
  let gaps = 0
  const viewer = await watchConsole(stack, id, 0, (m: ConsoleMessage) => {
    if (m.type === 'gap') gaps += m.to - m.from + 1
    if (m.type !== 'line') return
    const match = /bench (\d+) (\d+)/.exec(m.text)
    if (!match) return
    const now = Date.now()
    const n = Number(match[1])
    // Lines replayed from the archive after the run ended are not live deliveries.
    if (!seen.has(n)) {
      seen.add(n)
      latencies.push(now - Number(match[2]))
      firstAt ||= Number(match[2])
      lastAt = Number(match[2])
    }
  })
  const end = await viewer.waitFor((m) => m.type === 'end', 300_000)
  await finished(stack, id)
  latencies.sort((a, b) => a - b)
  const achieved = latencies.length / Math.max(0.001, (lastAt - firstAt) / 1000)
  return { target: linesPerSecond, achieved, total, received: seen.size, lost: total - seen.size, gaps, p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), end }
}

async function startToFirstRequest(stack: Stack, target: Target, runs: number) {
  const script = `
    import http from 'k6/http'
    export const options = { iterations: 1 }
    export default function () { http.get('${target.url}/first') }`
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const arrived = target.nextRequest()
    const t0 = Date.now()
    const { id } = await stack.api.runs.start.mutate({ script, location: 'us-east' })
    times.push((await arrived) - t0)
    await finished(stack, id)
  }
  return times
}

const SCRIPTS = {
  // A load test as people write them: VUs with think time. k6 is not CPU-bound here, so the
  // ratio shows whether Stampede disturbs the test itself.
  paced: (url: string) => `
    import http from 'k6/http'
    import { sleep } from 'k6'
    export const options = { vus: 20, duration: '8s' }
    export default function () { http.get('${url}/'); sleep(0.02) }`,
  // As fast as k6 can go: k6 and the target share this machine's cores, so every CPU cycle
  // spent on outputs (per-sample JSON metrics, the HTML report's aggregation) is a lost request.
  saturating: (url: string) => `
    import http from 'k6/http'
    export const options = { vus: 8, duration: '8s' }
    export default function () { http.get('${url}/') }`,
}

/** Runs k6 directly: plain (`k6 run script.js`) or with exactly the runner's flags and outputs. */
async function bareK6(k6Path: string, script: string, withStampedeOutputs: boolean): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-bare-'))
  try {
    await writeFile(path.join(dir, 'script.js'), script)
    const args = withStampedeOutputs ? k6Args(SCRIPT_FILE, await resolveTargetPolicy({ allowLoopback: true, allowlist: [] })) : ['run', '--summary-export=summary.json', 'script.js']
    const env = withStampedeOutputs ? k6Env(dir) : { PATH: '/usr/bin:/bin', HOME: dir, K6_NO_USAGE_REPORT: 'true' }
    await new Promise<void>((resolve, reject) => {
      const child = spawn(k6Path, args, { cwd: dir, env, stdio: 'ignore' })
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bare k6 exited ${code}`))))
    })
    const summary = JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')) as { metrics: { http_reqs: { rate: number } } }
    return summary.metrics.http_reqs.rate
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5)

async function throughput(stack: Stack, target: Target, k6Path: string, kind: keyof typeof SCRIPTS, withOutputs: boolean, rounds: number): Promise<number> {
  const script = SCRIPTS[kind](target.url)
  const bare: number[] = []
  const outputs: number[] = []
  const under: number[] = []
  for (let round = 0; round < rounds; round++) {
    bare.push(await bareK6(k6Path, script, false))
    if (withOutputs) outputs.push(await bareK6(k6Path, script, true))
    const run = await finished(stack, (await stack.api.runs.start.mutate({ script, location: 'us-east' })).id)
    under.push(run.metrics.httpReqRate ?? 0)
  }
  const ratios = under.map((u, i) => u / bare[i]!)
  console.log(`  ${kind}: bare k6 ${bare.map((x) => fmt(x)).join(' / ')} req/s; Stampede ${under.map((x) => fmt(x)).join(' / ')} req/s`)
  console.log(`  ${kind}: Stampede ÷ bare k6, median of ${rounds} alternating rounds: ${fmt(median(ratios), 3)}`)
  if (withOutputs) {
    const own = under.map((u, i) => u / outputs[i]!)
    console.log(`  ${kind}: bare k6 with Stampede's outputs ${outputs.map((x) => fmt(x)).join(' / ')} req/s`)
    console.log(`  ${kind}: Stampede ÷ bare k6 with the same outputs (orchestration overhead alone): ${fmt(median(own), 3)}`)
    console.log(`  ${kind}: bare k6 with outputs ÷ plain bare k6 (cost of the metrics stream and report): ${fmt(median(outputs.map((o, i) => o / bare[i]!)), 3)}`)
  }
  return median(ratios)
}

interface ModeFigures {
  startP50: number
  startP95: number
  paced: number
  saturating: number
}

/** runs.start → first request and the throughput ratios, on a stack whose k6 runs in `sandbox` mode. */
async function measure(sandbox: 'bubblewrap' | 'off', target: Target, k6Path: string, relay: boolean): Promise<ModeFigures> {
  const stack = await startStack({ api: { RUN_TIMEOUT_SECONDS: '600', K6_SANDBOX: sandbox }, runner: { K6_SANDBOX: sandbox } })
  try {
    console.log(`\n######## k6 sandbox: ${sandbox}`)
    // Warm-up: the first run pays for k6's first start and the workflow's first task.
    await finished(stack, (await stack.api.runs.start.mutate({ script: 'export default function () {}', location: 'us-east' })).id)

    if (relay) {
      console.log('\n== console relay latency (k6 line written → WebSocket viewer)')
      for (const rate of [100, 2000]) {
        const r = await consoleLatency(stack, rate, 10)
        console.log(
          `  ${rate} lines/s (achieved ${fmt(r.achieved)}): p50 ${fmt(r.p50)} ms, p95 ${fmt(r.p95)} ms, ` +
            `lines ${r.received}/${r.total}, lost ${r.lost}, gap lines reported ${r.gaps}`,
        )
      }
    }

    console.log('\n== runs.start → first request at the target (10 runs)')
    const starts = (await startToFirstRequest(stack, target, 10)).sort((a, b) => a - b)
    console.log(`  p50 ${fmt(quantile(starts, 0.5))} ms, p95 ${fmt(quantile(starts, 0.95))} ms, min ${starts[0]} ms, max ${starts.at(-1)} ms`)

    console.log('\n== throughput: requests/s under Stampede ÷ the same script under bare k6 (8 s each)')
    const paced = await throughput(stack, target, k6Path, 'paced', false, 3)
    const saturating = await throughput(stack, target, k6Path, 'saturating', true, 3)
    return { startP50: quantile(starts, 0.5), startP95: quantile(starts, 0.95), paced, saturating }
  } finally {
    await stack.stop()
  }
}

async function main() {
  const target = await startTarget()
  const k6 = await resolveTool('k6')
  try {
    const sandboxed = await measure('bubblewrap', target, k6.path, true)
    const open = await measure('off', target, k6.path, false)
    const change = (a: number, b: number) => `${a >= b ? '+' : ''}${fmt(((a - b) / b) * 100, 1)} %`
    console.log('\n######## the sandbox\'s cost (sandboxed vs K6_SANDBOX=off)')
    console.log(`  runs.start → first request p50: ${fmt(sandboxed.startP50)} ms sandboxed, ${fmt(open.startP50)} ms without (target ≤ 300 ms); p95 ${fmt(sandboxed.startP95)} / ${fmt(open.startP95)} ms`)
    console.log(`  paced throughput ratio: ${fmt(sandboxed.paced, 3)} sandboxed, ${fmt(open.paced, 3)} without (${change(sandboxed.paced, open.paced)}; target within 3 %)`)
    console.log(`  saturating throughput ratio: ${fmt(sandboxed.saturating, 3)} sandboxed, ${fmt(open.saturating, 3)} without (${change(sandboxed.saturating, open.saturating)}; target within 3 %)`)
  } finally {
    await target.stop()
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
