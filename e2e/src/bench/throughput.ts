// The throughput lanes' measurement: requests/s of one script under Stampede ÷ the same script
// under bare k6, each measured run paired with the bare k6 runs just before and just after it.
//
// Why paired: on this kind of machine (a 2-core VM), bare k6 alone drifts by up to ±20 % over
// tens of seconds (the same target's CPU per request rose from 31 to 50 µs and back within a
// minute while nothing else ran), so a ratio against a bare run a few minutes away measures the
// drift as much as Stampede. Against the mean of its two neighbours, a run is compared with the
// machine as it was around it; the median over the rounds drops the pairs a sudden change split.
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { K6Sandbox, spawnPlan } from '@stampede/sandbox'
import { controlAddress, holdCaps, httpControl, k6Args, k6Env, k6RunFlags, k6Writes, SCRIPT_FILE, SCRIPT_PATH } from '@stampede/runner'
import { capsFor } from '@stampede/shared/caps'
import type { PlatformConfig } from '@stampede/shared/platform-config'
import { resolveTargetPolicy } from '@stampede/shared/targets'
import { readProcs, type Proc } from './proc.ts'
import { fmt, median } from './stats.ts'

export const SCRIPTS = {
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
    export const options = { vus: 8, duration: '15s' }
    export default function () { http.get('${url}/') }`,
}

const policy = () => resolveTargetPolicy({ allowLoopback: true, allowlist: [] })

interface Summary {
  metrics: { http_reqs: { rate: number } }
}

/** Runs k6 directly: plain (`k6 run script.js`) or with exactly the runner's flags and outputs. */
export async function bareK6(k6Path: string, script: string, withStampedeOutputs: boolean, report = true): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-bare-'))
  try {
    // With the runner's flags, the script is where a run has it (in the test's folder).
    const scriptPath = path.join(dir, withStampedeOutputs ? SCRIPT_PATH : 'script.js')
    await mkdir(path.dirname(scriptPath), { recursive: true })
    await writeFile(scriptPath, script)
    const args = withStampedeOutputs ? k6Args(SCRIPT_FILE, await policy(), { report }) : ['run', '--summary-export=summary.json', 'script.js']
    const env = withStampedeOutputs ? k6Env(dir) : { PATH: '/usr/bin:/bin', HOME: dir, K6_NO_USAGE_REPORT: 'true' }
    await new Promise<void>((resolve, reject) => {
      // In a session of its own, as k6 started from a terminal is, and as Stampede's sandbox starts
      // it (bwrap --new-session): with the kernel's autogroup scheduling (on by default) a session
      // is a CPU share of its own, so k6 in the bench's session would share one with the platform.
      const child = spawn(k6Path, args, { cwd: dir, env, stdio: 'ignore', detached: true })
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bare k6 exited ${code}`))))
    })
    const summary = JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')) as Summary
    return summary.metrics.http_reqs.rate
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * k6 exactly as a sandboxed runner starts it (its directory, flags, limits and bubblewrap
 * sandbox; started paused and resumed through its REST API, `vus-max` read every 500 ms), but
 * with no platform around it: no workflow, heartbeats, API or database. Against a Stampede run,
 * the difference is what the platform's own work costs; against bare k6, what the sandbox costs.
 */
export function sandboxedK6(k6Path: string, root: string, config: Pick<PlatformConfig, 'sandbox' | 'scriptLimits'>): (script: string) => Promise<number> {
  const limits = config.sandbox.run
  // A project without quotas: the caps the runner's dispatch gives such a run.
  const caps = capsFor(config.scriptLimits, { maxVus: null, maxDurationSeconds: null })
  let sandbox: Promise<K6Sandbox> | undefined
  return async (script) => {
    const sb = await (sandbox ??= K6Sandbox.create({ mode: 'bubblewrap', k6BinPath: k6Path, root, log: () => {} }))
    const dir = await sb.makeDir('bench-')
    try {
      await sb.prepare(dir, SCRIPT_FILE, script)
      const address = controlAddress()
      const plan = sb.plan({ dir, invocation: { purpose: 'run', scriptFile: SCRIPT_FILE, vars: {}, flags: k6RunFlags(await policy(), { control: address, report: false }) }, limits, writable: k6Writes() })
      const proc = spawnPlan(plan, { onLine: () => {}, maxRssBytes: limits.memoryBytes })
      // The runner's own cap hold (wait until paused, resume, read `vus-max` every 500 ms), with no platform to tell.
      const hold = holdCaps(httpControl(address), caps, { stop: () => {}, loadStarted: () => {}, log: () => {}, everyMs: 500 })
      const exit = await proc.exited.finally(() => hold.stop())
      if (exit.code !== 0) throw new Error(`sandboxed k6 exited ${exit.code}${exit.sandboxError ? `: ${exit.sandboxError}` : ''}`)
      return (JSON.parse(await readFile(path.join(dir.path, 'summary.json'), 'utf8')) as Summary).metrics.http_reqs.rate
    } finally {
      await rm(dir.base, { recursive: true, force: true })
    }
  }
}

interface PlatformCpu {
  self: number
  runners: number
  temporal: number
  postgres: number
}

/**
 * CPU (ms) of the platform's own processes: this one (API, orchestrating runner, S3, the bench),
 * the location runners' processes (`runnerPids`; k6 is not counted), Temporal's dev server, Postgres.
 */
async function platformCpu(runnerPids: readonly number[]): Promise<PlatformCpu> {
  const own = process.cpuUsage()
  const procs = await readProcs()
  const sum = (pick: (p: Proc) => boolean) => procs.filter(pick).reduce((n, p) => n + p.cpuMs, 0)
  return { self: (own.user + own.system) / 1000, runners: sum((p) => runnerPids.includes(p.pid)), temporal: sum((p) => p.comm === 'temporal'), postgres: sum((p) => p.comm === 'postgres') }
}

const BARE = 'bare k6'

export interface Variant {
  name: string
  /** Runs the script once; resolves to k6's own requests/s. */
  run(script: string): Promise<number>
}

/**
 * Each round runs every variant once, in turn, each between two plain bare k6 runs (the run after
 * one variant is the run before the next): bare, A, bare, B, bare, … The variants take turns at
 * going first. Returns each variant's median ratio to its neighbours' mean.
 */
export async function pairedThroughput(kind: keyof typeof SCRIPTS, targetUrl: string, bare: () => Promise<number>, variants: Variant[], rounds: number, runnerPids: readonly number[] = []): Promise<Map<string, number>> {
  const script = SCRIPTS[kind](targetUrl)
  // Every run in the order it ran: bare, variant, bare, variant, …, bare.
  const sequence: { name: string; rate: number }[] = []
  // Platform CPU (ms) during each variant, summed over the rounds: where the requests went.
  const cpu = new Map<string, PlatformCpu>()
  const run = async (name: string, fn: () => Promise<number>) => {
    const a = await platformCpu(runnerPids)
    sequence.push({ name, rate: await fn() })
    const b = await platformCpu(runnerPids)
    const sum = cpu.get(name) ?? { self: 0, runners: 0, temporal: 0, postgres: 0 }
    cpu.set(name, { self: sum.self + b.self - a.self, runners: sum.runners + b.runners - a.runners, temporal: sum.temporal + b.temporal - a.temporal, postgres: sum.postgres + b.postgres - a.postgres })
  }
  await run(BARE, bare)
  for (let round = 0; round < rounds; round++) {
    const order = [...variants.slice(round % variants.length), ...variants.slice(0, round % variants.length)]
    for (const v of order) {
      await run(v.name, () => v.run(script))
      await run(BARE, bare)
    }
  }
  console.log(`  ${kind}: bare k6 ${sequence.filter((r) => r.name === BARE).map((r) => fmt(r.rate)).join(' / ')} req/s`)
  const ratios = new Map<string, number>()
  for (const v of variants) {
    // Each variant run's neighbours in the sequence are the bare runs just before and after it.
    const runs = sequence.flatMap((r, i) => (r.name === v.name ? [{ rate: r.rate, ratio: r.rate / ((sequence[i - 1]!.rate + sequence[i + 1]!.rate) / 2) }] : []))
    const each = runs.map((r) => r.ratio)
    ratios.set(v.name, median(each))
    console.log(`  ${kind}, ${v.name}: ${runs.map((r) => fmt(r.rate)).join(' / ')} req/s; ÷ the bare k6 runs around it: ${each.map((x) => fmt(x, 3)).join(' / ')}, median ${fmt(median(each), 3)}`)
  }
  const runsOf = (name: string) => sequence.filter((r) => r.name === name).length
  for (const [name, c] of cpu) {
    const n = runsOf(name)
    console.log(`  ${kind}, platform CPU per ${name} run (from start to final): this process ${fmt(c.self / n)} ms, the location runners ${fmt(c.runners / n)} ms, Temporal ${fmt(c.temporal / n)} ms, Postgres ${fmt(c.postgres / n)} ms`)
  }
  return ratios
}
