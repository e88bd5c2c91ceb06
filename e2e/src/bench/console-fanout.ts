// The console at scale (issue "Scale on one API", parts 2 and 3), as benchmark lanes on real parts
// (Temporal dev server, PostgreSQL, S3-compatible server, a real runner and k6):
//  - consoleFanout: N viewers of one run writing lines at a steady rate: p50/p95 line written by k6
//    → received by a viewer, over all viewers; lines lost; gaps; the API process's CPU (% of one
//    core) over the window the lines flow. The viewers run in a child process of their own, so
//    they neither share the API's event loop nor count in its CPU time; the API (with the runner,
//    both in this process as in the e2e stack) is measured with process.cpuUsage.
//  - consolePolling: 10 watched running runs and 10 watched queued runs: the relay's Temporal
//    describe calls per second, in total and per queued run, on one API instance and on two (each
//    polls only the runs its own viewers watch).
// k6 only runs sleep/console scripts here: it aims at nothing.
import { fork } from 'node:child_process'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { createServer, loadApiConfig, type ApiServer } from '@stampede/api'
import type { ConsoleMessage } from '@stampede/shared'
import { watchConsole, type ConsoleEndpoint, type ConsoleSession } from '../console-client.ts'
import { startStack, type Stack } from '../stack.ts'
import { runFinished, waitUntil } from '../wait.ts'
import type { ViewersEvent, ViewersStart, ViewersSummary } from './console-viewers.ts'
import { fmt } from './stats.ts'

/** us-east has the stack's runner; asia-pacific has none, so runs there stay queued. */
export const CONSOLE_BENCH_LOCATIONS = 'us-east:US East:Virginia,asia-pacific:Asia Pacific:Singapore'
const RUNNING_LOCATION = 'us-east'
const QUEUED_LOCATION = 'asia-pacific'


/**
 * A platform for these lanes: one runner serving us-east with room for 10 concurrent runs (the
 * polling lane keeps 10 running), and asia-pacific with no runner at all.
 */
export function startConsoleBenchStack(): Promise<Stack> {
  return startStack({
    locations: CONSOLE_BENCH_LOCATIONS,
    api: { RUN_TIMEOUT_SECONDS: '600' },
    runner: { ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: RUNNING_LOCATION, K6_MAX_CONCURRENCY: '12' },
  })
}

/** Both lanes on a platform of their own (`npm run bench`'s `console` lane). */
export async function runConsoleLanes(): Promise<void> {
  const stack = await startConsoleBenchStack()
  try {
    // Warm-up: the first run pays for k6's first start and the workflow's first task.
    await runFinished(stack.api, (await stack.api.runs.start.mutate({ script: 'export default function () {}', location: RUNNING_LOCATION })).id, 300_000)
    console.log('\n== console fan-out: one run at 200 lines/s, k6 line written → WebSocket viewer (viewers in a child process)')
    for (const viewers of [1, 500]) printFanout(await consoleFanout(stack, { viewers }))
    console.log('\n== console polling: Temporal describe calls of the relay, 10 watched running runs and 10 watched queued runs')
    await consolePolling(stack)
  } finally {
    await stack.stop()
  }
}

/**
 * A k6 script that writes `linesPerSecond` console lines for `seconds` (after `leadSeconds`), each
 * `bench <n> <write time in ms>`, so a viewer can tell every line's latency and which are missing.
 */
export function pacedConsoleScript(linesPerSecond: number, seconds: number, leadSeconds = 0): { script: string; total: number } {
  const perBatch = Math.max(1, Math.round(linesPerSecond / 100))
  const batches = Math.round((linesPerSecond * seconds) / perBatch)
  const script = `
    import { sleep } from 'k6'
    export const options = { iterations: 1 }
    export default function () {
      sleep(${leadSeconds})
      let n = 0
      const start = Date.now()
      for (let b = 0; b < ${batches}; b++) {
        for (let i = 0; i < ${perBatch}; i++) console.log('bench ' + (++n) + ' ' + Date.now())
        const due = start + ((b + 1) * ${perBatch} * 1000) / ${linesPerSecond}
        const wait = due - Date.now()
        if (wait > 0) sleep(wait / 1000)
      }
    }`
  return { script, total: batches * perBatch }
}

export interface FanoutOptions {
  viewers: number
  linesPerSecond?: number
  seconds?: number
  location?: string
}

export interface FanoutResult {
  viewers: number
  linesPerSecond: number
  lines: number
  p50: number
  p95: number
  p99: number
  max: number
  /** Lines some viewer never got (live or filled), summed over viewers. */
  lost: number
  gapLines: number
  filled: number
  duplicates: number
  /** The API process (API and runner) over the window the lines flowed, % of one core. */
  apiCpuPercent: number
  /** The viewers' process over the same window, % of one core. */
  viewerCpuPercent: number
  windowMs: number
  /** Frames the relay serialised per second over the window (one per tick with new lines, whatever the viewer count). */
  framesPerSecond: number
  /** The API process's event-loop delay, p99 over the window (ms). */
  loopDelayP99Ms: number
  /** Whether every viewer was connected before the first line (else some got catch-ups). */
  connectedBeforeFirstLine: boolean
}

/** Seconds the script waits before its first line: the viewers connect meanwhile. */
const LEAD_SECONDS = 8

export async function consoleFanout(stack: Stack, opts: FanoutOptions): Promise<FanoutResult> {
  const linesPerSecond = opts.linesPerSecond ?? 200
  const seconds = opts.seconds ?? 20
  const { script, total } = pacedConsoleScript(linesPerSecond, seconds, LEAD_SECONDS)
  const relay = stack.server.services.relay
  const { id } = await stack.api.runs.start.mutate({ script, location: opts.location ?? RUNNING_LOCATION })
  const child = fork(fileURLToPath(new URL('./console-viewers.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const loop = monitorEventLoopDelay({ resolution: 10 })
  try {
    const start: ViewersStart = { type: 'start', url: `${stack.wsUrl}/ws/runs/${id}/console?after=0`, headers: stack.wsHeaders, viewers: opts.viewers, total }
    let connectedAt: number | undefined
    let firstLineAt = Infinity
    let window: { at: number; cpu: NodeJS.CpuUsage; viewerCpuMs: number; frames: number } | undefined
    let measured: { ms: number; apiCpuMs: number; viewerCpuMs: number; frames: number } | undefined
    const summary = await new Promise<ViewersSummary>((resolve, reject) => {
      child.on('message', (event: ViewersEvent) => {
        if (event.type === 'connected') connectedAt = Date.now()
        else if (event.type === 'first') {
          firstLineAt = Date.now()
          window = { at: performance.now(), cpu: process.cpuUsage(), viewerCpuMs: event.cpuMs, frames: relay.framesSerialised }
          loop.enable()
        } else if (event.type === 'last' && window) {
          const cpu = process.cpuUsage(window.cpu)
          loop.disable()
          measured = { ms: performance.now() - window.at, apiCpuMs: (cpu.user + cpu.system) / 1000, viewerCpuMs: event.cpuMs - window.viewerCpuMs, frames: relay.framesSerialised - window.frames }
        } else if (event.type === 'done') resolve(event.summary)
        else if (event.type === 'failed') reject(new Error(`console viewers: ${event.message}`))
      })
      child.once('exit', (code) => reject(new Error(`the viewers' process exited (${code}) before every viewer had its end`)))
      child.send(start)
    })
    await runFinished(stack.api, id, 300_000)
    const pct = (q: number) => quantileOfHistogram(summary.histogram, q)
    const ms = measured?.ms ?? NaN
    return {
      viewers: opts.viewers,
      linesPerSecond,
      lines: total,
      p50: pct(0.5),
      p95: pct(0.95),
      p99: pct(0.99),
      max: pct(1),
      lost: summary.expected - summary.received,
      gapLines: summary.gapLines,
      filled: summary.filled,
      duplicates: summary.duplicates,
      apiCpuPercent: measured ? (measured.apiCpuMs / ms) * 100 : NaN,
      viewerCpuPercent: measured ? (measured.viewerCpuMs / ms) * 100 : NaN,
      windowMs: ms,
      framesPerSecond: measured ? measured.frames / (ms / 1000) : NaN,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      connectedBeforeFirstLine: connectedAt !== undefined && connectedAt <= firstLineAt,
    }
  } finally {
    loop.disable()
    if (child.exitCode === null) child.kill()
  }
}

export function printFanout(r: FanoutResult): void {
  console.log(
    `  ${r.viewers} viewer${r.viewers === 1 ? '' : 's'}, ${r.linesPerSecond} lines/s × ${r.lines} lines: p50 ${fmt(r.p50)} ms, p95 ${fmt(r.p95)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.max)} ms; ` +
      `lost ${r.lost}, gap lines ${r.gapLines} (filled ${r.filled}), duplicates ${r.duplicates}${r.viewers >= 500 ? ' (target p95 ≤ 300 ms, 0 lost)' : ''}`,
  )
  console.log(
    `    API process (API + in-process runner) CPU ${fmt(r.apiCpuPercent)} % of one core over ${fmt(r.windowMs / 1000, 1)} s; viewers' process ${fmt(r.viewerCpuPercent)} %; ` +
      `${fmt(r.framesPerSecond, 1)} frames serialised/s; API event-loop delay p99 ${fmt(r.loopDelayP99Ms, 1)} ms` +
      (r.connectedBeforeFirstLine ? '' : '; NOTE: not every viewer was connected before the first line'),
  )
}

/** The smallest latency (ms) with at least q of the samples at or below it. */
function quantileOfHistogram(histogram: readonly number[], q: number): number {
  const count = histogram.reduce((a, b) => a + b, 0)
  if (count === 0) return NaN
  const rank = Math.max(1, Math.ceil(q * count))
  let seen = 0
  for (let ms = 0; ms < histogram.length; ms++) {
    seen += histogram[ms]!
    if (seen >= rank) return ms
  }
  return histogram.length - 1
}

export interface PollingOptions {
  running?: number
  queued?: number
  /** How long each figure is measured over. */
  windowMs?: number
}

export interface PollingResult {
  /** One API instance: describe calls/s with only the queued runs watched, per queued run. */
  perQueuedRun: number
  /** One API instance, every run watched: describe calls/s in total, and per running run. */
  total: number
  perRunningRun: number
  /** Two API instances, each watching half of the runs: calls/s of each and in total. */
  split: [number, number]
  /** Two API instances, every run watched through both: calls/s of each and in total. */
  both: [number, number]
}

/** A watched running run is read at the console tick; a queued one about once a second. */
export async function consolePolling(stack: Stack, opts: PollingOptions = {}): Promise<PollingResult> {
  const running = opts.running ?? 10
  const queued = opts.queued ?? 10
  const windowMs = opts.windowMs ?? 10_000
  // Sleepy runs: a line a second for longer than the lane takes; cancelled at the end.
  const sleepy = `
    import { sleep } from 'k6'
    export const options = { iterations: 1 }
    export default function () { for (let i = 1; i <= 600; i++) { console.log('tick ' + i); sleep(1) } }`
  const runIds: string[] = []
  const sessions: ConsoleSession[] = []
  let second: ApiServer | undefined
  try {
    const runningIds: string[] = []
    for (let i = 0; i < running; i++) runningIds.push((await stack.api.runs.start.mutate({ script: sleepy, location: RUNNING_LOCATION })).id)
    runIds.push(...runningIds)
    await waitUntil(
      `${running} runs to be running`,
      async () => ((await Promise.all(runningIds.map((id) => stack.api.runs.byId.query({ id })))).every((r) => r.status === 'running') ? true : undefined),
      180_000,
      250,
    )
    const queuedIds: string[] = []
    for (let i = 0; i < queued; i++) queuedIds.push((await stack.api.runs.start.mutate({ script: sleepy, location: QUEUED_LOCATION })).id)
    runIds.push(...queuedIds)

    const relayA = stack.server.services.relay
    const endpointA: ConsoleEndpoint = stack
    const watch = async (endpoint: ConsoleEndpoint, ids: string[], status: 'queued' | 'running') => {
      const opened = await Promise.all(ids.map((id) => watchConsole(endpoint, id)))
      sessions.push(...opened)
      await Promise.all(opened.map((s) => s.waitFor((m: ConsoleMessage) => m.type === 'status' && m.status === status, 60_000)))
      return opened
    }
    const closeAll = async () => {
      const closing = sessions.splice(0)
      for (const s of closing) s.close()
      await Promise.all(closing.map((s) => s.closed))
    }
    const rate = async (relays: { describeCalls: number }[]) => {
      const before = relays.map((r) => r.describeCalls)
      const t0 = performance.now()
      // A measuring window, not a wait for a condition: the figure is calls per second over it.
      await new Promise((resolve) => setTimeout(resolve, windowMs))
      const seconds = (performance.now() - t0) / 1000
      return relays.map((r, i) => (r.describeCalls - before[i]!) / seconds)
    }

    // One API instance.
    await watch(endpointA, queuedIds, 'queued')
    const [queuedOnly] = await rate([relayA])
    const perQueuedRun = queuedOnly! / queued
    console.log(`  one API, ${queued} watched queued runs: ${fmt(queuedOnly!, 1)} describe calls/s, ${fmt(perQueuedRun, 2)} per queued run (goal ≤ 1)`)
    await watch(endpointA, runningIds, 'running')
    const [total] = await rate([relayA])
    const perRunningRun = (total! - queuedOnly!) / running
    console.log(`  one API, ${running} watched running + ${queued} watched queued runs: ${fmt(total!, 1)} describe calls/s (≈ ${fmt(perRunningRun, 1)} per running run)`)
    await closeAll()
    await waitUntil('the relay to stop polling', async () => (relayA.activePollers === 0 ? true : undefined), 10_000, 20)

    // Two API instances on the same platform, as behind a load balancer.
    second = await createServer(loadApiConfig({ ...stack.env, API_PORT: '0', RUN_TIMEOUT_SECONDS: '600', API_TOKEN_RATE_LIMIT: '100000', VALIDATION_RATE_LIMIT: '100000' }))
    const urlB = await second.start()
    const endpointB: ConsoleEndpoint = { wsUrl: urlB.replace(/^http/, 'ws'), wsHeaders: stack.wsHeaders }
    const relayB = second.services.relay
    const half = <T>(xs: T[]) => [xs.slice(0, Math.ceil(xs.length / 2)), xs.slice(Math.ceil(xs.length / 2))] as const
    const [runningA, runningB] = half(runningIds)
    const [queuedA, queuedB] = half(queuedIds)
    await Promise.all([watch(endpointA, runningA, 'running'), watch(endpointA, queuedA, 'queued'), watch(endpointB, runningB, 'running'), watch(endpointB, queuedB, 'queued')])
    const split = (await rate([relayA, relayB])) as [number, number]
    console.log(
      `  two APIs, viewers split (each watches ${runningA.length}+${queuedA.length} / ${runningB.length}+${queuedB.length} runs): ` +
        `${fmt(split[0], 1)} + ${fmt(split[1], 1)} = ${fmt(split[0] + split[1], 1)} describe calls/s (each polls only its own viewers' runs)`,
    )
    await Promise.all([watch(endpointB, runningA, 'running'), watch(endpointB, queuedA, 'queued'), watch(endpointA, runningB, 'running'), watch(endpointA, queuedB, 'queued')])
    const both = (await rate([relayA, relayB])) as [number, number]
    console.log(`  two APIs, every run watched through both: ${fmt(both[0], 1)} + ${fmt(both[1], 1)} = ${fmt(both[0] + both[1], 1)} describe calls/s (a run watched through two instances is read by both)`)
    await closeAll()
    return { perQueuedRun, total: total!, perRunningRun, split, both }
  } finally {
    for (const s of sessions) s.close()
    await Promise.all(runIds.map((id) => stack.api.runs.cancel.mutate({ id }).catch(() => undefined)))
    await Promise.all(runIds.map((id) => runFinished(stack.api, id, 120_000).catch(() => undefined)))
    await second?.stop()
  }
}
