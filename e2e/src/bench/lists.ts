// Benchmark lanes for lists on a long history (issue "Scale on one API", parts 1 and 4):
//  - list latency: 100,000 runs in the table; runs.list with no filter, by status, by location,
//    by test (default limit 50) and with limit 200, each by 20 concurrent callers through the
//    real tRPC API over HTTP: p50/p95 (target p95 ≤ 50 ms); then the same while the project's
//    runs change, and with the API's kept first pages off (RUN_LIST_CACHE_MB=0);
//  - API memory: RSS and heap of the API process after a full GC at its start and after 5,000
//    runs.list(limit 200) calls (target: RSS within 100 MB of the start).
// The API under measurement runs in a process of its own (api-process.ts), as it does in
// production, and so do the latency lane's callers (list-callers.ts), as clients do; the stack's
// Temporal and S3 and the memory lane's callers run in this one. LIST_API_ENV='K=V K=V'
// adds to that API's environment, to compare settings (e.g. API_HEAP_GROWING_PERCENT=0: V8's own).
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import pLimit from 'p-limit'
import pg from 'pg'
import type { RunStatus } from '@stampede/shared'
import { tokenClient, type Api } from '../clients.ts'
import type { Stack } from '../stack.ts'
import { startApiProcess, type ApiMemory, type ApiProcess } from './api-process.ts'
import { FLOORS, startListCallers, type MeasureRequest } from './list-callers.ts'
import { seedRuns, type Seeded } from './seed.ts'
import { quantile } from './stats.ts'

type ListInput = NonNullable<Parameters<Api['runs']['list']['query']>[0]>

const FINISHED: RunStatus[] = ['passed', 'failed', 'error', 'cancelled', 'timed_out']

const MB = 1024 * 1024
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`
const signedMb = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / MB).toFixed(1)} MB`

/** CPU time the whole machine spent busy (all cores, every state but idle and iowait), in ms, from /proc/stat. */
async function machineBusyMs(): Promise<number> {
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLOCK_TICKS
}
/** The kernel's clock ticks per second for /proc/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100

/** What a lane needs of the seeded history. */
export interface ListHistory {
  projectId: string
  testIds: string[]
  /** The stack's locations, which the runs are spread over. */
  locations: string[]
}

/** One kind of runs.list call; `input(i)` varies the filter's value from call to call. */
export interface ListCase {
  name: string
  input: (i: number) => ListInput
}

export function listCases(history: ListHistory): ListCase[] {
  const { projectId, testIds, locations } = history
  return [
    { name: 'no filter', input: () => ({ projectId }) },
    { name: 'status', input: (i) => ({ projectId, status: FINISHED[i % FINISHED.length]! }) },
    { name: 'location', input: (i) => ({ projectId, location: locations[i % locations.length]! }) },
    { name: 'test', input: (i) => ({ projectId, testId: testIds[i % testIds.length]! }) },
    { name: 'limit 200', input: () => ({ projectId, limit: 200 }) },
  ]
}

/** Runs `total` calls of `fn` by `concurrency` callers, each starting its next call when its last one answered. */
export async function concurrently(concurrency: number, total: number, fn: (i: number) => Promise<void>): Promise<void> {
  const caller = pLimit(concurrency)
  await Promise.all(Array.from({ length: total }, (_, i) => caller(() => fn(i))))
}

export interface LatencyResult {
  name: string
  calls: number
  p50: number
  p95: number
  max: number
  perSecond: number
}

/** What a caller needs: one runs.list call. */
export type ListCall = (input: ListInput) => Promise<{ items: unknown[] }>

/** runs.list through the tRPC client the SDK is built on (fetch, the client's own parsing). */
export const trpcList = (api: Api): ListCall => (input) => api.runs.list.query(input)

/**
 * runs.list as a plain HTTP GET on a keep-alive connection pool, the answer parsed with
 * JSON.parse: what any HTTP client does, with less of the caller's own CPU than the tRPC client on
 * fetch (the callers share the machine's 2 cores with the API and Postgres).
 */
export function plainList(apiUrl: string, token: string): ListCall {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const base = new URL('/trpc/runs.list', apiUrl)
  return (input) =>
    new Promise((resolve, reject) => {
      const url = new URL(base)
      url.searchParams.set('input', JSON.stringify(input))
      const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result?: { data?: { items: unknown[] } }; error?: { message?: string } }
          if (res.statusCode !== 200 || !body.result?.data) reject(new Error(`runs.list answered ${res.statusCode}: ${body.error?.message ?? 'no data'}`))
          else resolve(body.result.data)
        })
        res.on('error', reject)
      })
      req.on('error', reject)
    })
}

/** p50/p95 of each case at `concurrency` callers, after `warmup` calls of it that are not counted. */
export async function measureListLatency(list: ListCall, cases: ListCase[], opts: { concurrency?: number; calls?: number; warmup?: number } = {}): Promise<LatencyResult[]> {
  const concurrency = opts.concurrency ?? 20
  const calls = opts.calls ?? 400
  const results: LatencyResult[] = []
  for (const c of cases) {
    await concurrently(concurrency, opts.warmup ?? 40, async (i) => void (await list(c.input(i))))
    const times: number[] = []
    const started = performance.now()
    await concurrently(concurrency, calls, async (i) => {
      const t0 = performance.now()
      const page = await list(c.input(i))
      times.push(performance.now() - t0)
      if (page.items.length === 0) throw new Error(`runs.list (${c.name}, ${JSON.stringify(c.input(i))}) returned no runs: is the history seeded?`)
    })
    const seconds = (performance.now() - started) / 1000
    times.sort((a, b) => a - b)
    results.push({ name: c.name, calls, p50: quantile(times, 0.5), p95: quantile(times, 0.95), max: times.at(-1)!, perSecond: calls / seconds })
  }
  return results
}

/**
 * `total` runs.list(limit 200) calls by `concurrency` callers over every filter; every other
 * call of a caller goes to the next page of its previous one (cursor paging). Returns how many
 * runs came back.
 */
export async function driveListCalls(api: Api, history: ListHistory, total: number, concurrency = 20): Promise<number> {
  const cases = listCases(history)
  const cursors = new Map<number, string>()
  let items = 0
  await concurrently(concurrency, total, async (i) => {
    const caller = i % concurrency
    const c = cases[Math.floor(i / concurrency) % cases.length]!
    const cursor = i % 2 === 1 ? cursors.get(caller) : undefined
    const page = await api.runs.list.query({ ...c.input(i), limit: 200, ...(cursor ? { cursor } : {}) })
    items += page.items.length
    if (page.nextCursor) cursors.set(caller, page.nextCursor)
    else cursors.delete(caller)
  })
  return items
}

/** The API (stack's environment and database) in a process of its own, with rate limits out of the way. */
export function startListApi(stack: Stack, extra: Record<string, string> = {}): Promise<ApiProcess> {
  const compared = Object.fromEntries((process.env.LIST_API_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  return startApiProcess({ ...stack.env, API_TOKEN_RATE_LIMIT: '10000000', VALIDATION_RATE_LIMIT: '100000', ...compared, ...extra })
}

/** Seeds `runs` runs (over 50 tests and the stack's configured locations) into the stack's Default project. */
export async function seedListHistory(stack: Stack, runs = 100_000): Promise<Seeded & ListHistory> {
  const databaseUrl = stack.env.DATABASE_URL!
  // The API wrote the configured locations at its start.
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const locations = (await client.query<{ id: string }>('SELECT id FROM locations ORDER BY created_at, id').finally(() => client.end())).rows.map((r) => r.id)
  const seeded = await seedRuns(databaseUrl, { projectId: stack.projectId, runs, tests: 50, locations })
  return { ...seeded, projectId: stack.projectId, locations }
}

/**
 * Lane: runs.list latency at 20 concurrent callers on the seeded history, and for comparison one
 * caller alone; with the API process's CPU time per call (user + system), which bounds how many
 * calls one API process answers per second whatever the database does.
 *
 * The API keeps first pages while their project's runs are unchanged (RUN_LIST_CACHE_MB), and the
 * seeded history does not change: the main figures are those of pages people keep looking at
 * (the limit-200 case is never kept: pages of more than 100 runs are read every time).
 * Two more passes say what that leaves out: the same calls while one of the project's runs
 * changes every CHANGE_EVERY_MS (each change makes every kept page of the project stale), and
 * with RUN_LIST_CACHE_MB=0 (every page read from the database).
 */
export async function listLatencyLane(stack: Stack, history: ListHistory, opts: { concurrency?: number; calls?: number } = {}): Promise<LatencyResult[]> {
  const concurrency = opts.concurrency ?? 20
  // 2,000 calls (2 to 5 s) a case: with 20 callers in flight, one pause of the machine (a
  // collection, another tenant's burst) delays 20 calls at once, which in 400 calls would be the
  // whole 5 % above the p95.
  const calls = opts.calls ?? 2_000
  const results: LatencyResult[] = []
  const passes: { title: string; env?: Record<string, string>; changing?: boolean; clients: MeasureRequest['client'][]; floor?: boolean }[] = [
    { title: `runs.list latency, API and callers each in a process of their own (target p95 ≤ 50 ms at ${concurrency} concurrent callers)`, clients: ['trpc', 'plain'], floor: true },
    { title: `the same while one of the project's runs changes every ${CHANGE_EVERY_MS} ms (a busy project: about ${Math.round(60_000 / CHANGE_EVERY_MS / 4)} runs a minute, each changing 4 times)`, changing: true, clients: ['trpc'] },
    { title: 'the same with RUN_LIST_CACHE_MB=0: every page read from the database', env: { RUN_LIST_CACHE_MB: '0' }, clients: ['trpc'] },
  ]
  for (const pass of passes) {
    const api = await startListApi(stack, pass.env)
    const callers = await startListCallers(api.url, stack.token, history)
    const writer = pass.changing ? await changeRuns(stack, history) : undefined
    try {
      // CPU per call of the API process, of the callers' process, and of the rest of the machine
      // (Postgres, Temporal, this process): where the 2 cores go.
      const measured = async (request: MeasureRequest) => {
        const a = await api.cpu()
        const machineA = await machineBusyMs()
        const { result, cpuMs } = await callers.measure(request)
        const b = await api.cpu()
        const apiMs = (b.user - a.user + b.system - a.system) / 1000
        const perCall = (ms: number) => (ms / result.calls).toFixed(2)
        const cpu = `CPU ms/call: API ${perCall(apiMs)}, callers ${perCall(cpuMs)}, rest of the machine ${perCall((await machineBusyMs()) - machineA - apiMs - cpuMs)}`
        return { result, cpu }
      }
      console.log(`\n== ${pass.title}`)
      // A fresh API process compiles its hot paths over its first thousand or so calls; a running
      // API has long done so. Not measured.
      for (const c of listCases(history)) await callers.measure({ client: 'trpc', caseName: c.name, opts: { concurrency, calls: 200, warmup: 0 } })
      for (const client of pass.clients) for (const c of listCases(history)) {
        const { result: alone } = await callers.measure({ client, caseName: c.name, opts: { concurrency: 1, calls: 100, warmup: 20 } })
        const { result: r, cpu } = await measured({ client, caseName: c.name, opts: { concurrency, calls } })
        const clientName = CLIENT_NAMES[client]
        if (!pass.env && !pass.changing) results.push({ ...r, name: `${r.name} (${clientName})` })
        console.log(
          `  ${clientName}, ${c.name.padEnd(10)} ${concurrency} callers: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, ${r.perSecond.toFixed(0)} calls/s;` +
            ` 1 caller: p50 ${alone.p50.toFixed(1)} ms, p95 ${alone.p95.toFixed(1)} ms; ${cpu}${r.p95 <= 50 ? '' : '  ABOVE TARGET'}`,
        )
      }
      if (writer) console.log(`  (${writer.changes()} changes to the project's runs during the pass)`)
      if (!pass.floor) continue
      // The floor under every case: the same callers on calls that carry almost nothing. Closed-loop
      // callers on a saturated machine wait about (callers × CPU per call ÷ cores), so these say how
      // much of a case's latency the list itself can still take away.
      console.log(`  floor (tRPC client, ${concurrency} callers):`)
      for (const name of FLOORS) {
        const { result: r, cpu } = await measured({ client: 'trpc', caseName: name, opts: { concurrency, calls } })
        console.log(`    ${name}: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, ${r.perSecond.toFixed(0)} calls/s; ${cpu}`)
      }
    } finally {
      await writer?.stop()
      await callers.stop()
      await api.stop()
    }
  }
  return results
}

const CLIENT_NAMES = { trpc: 'tRPC client', plain: 'plain HTTP client' } as const

/** How often the "changing" pass changes one of the project's runs. */
const CHANGE_EVERY_MS = 100

/**
 * Changes one of the project's runs every CHANGE_EVERY_MS until stopped, as a runner's progress
 * does (its console line count moves on); the newest run, so the first pages really change.
 */
async function changeRuns(stack: Stack, history: ListHistory): Promise<{ changes: () => number; stop: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: stack.env.DATABASE_URL! })
  await client.connect()
  const newest = (await client.query<{ id: string }>('SELECT id FROM runs WHERE project_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1', [history.projectId])).rows[0]!.id
  let changes = 0
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      await client.query('UPDATE runs SET console_lines = coalesce(console_lines, 0) + 1 WHERE id = $1', [newest])
      changes++
      await new Promise((r) => setTimeout(r, CHANGE_EVERY_MS))
    }
  })()
  return {
    changes: () => changes,
    stop: async () => {
      stopped = true
      await loop
      await client.end()
    },
  }
}

export interface MemoryResult {
  start: ApiMemory
  warm: ApiMemory
  end: ApiMemory
  calls: number
  items: number
  seconds: number
}

/** Lane: API memory after a full GC at its start, after a warm-up, and after `calls` runs.list(limit 200) calls. */
export async function listMemoryLane(stack: Stack, history: ListHistory, opts: { calls?: number; warmup?: number; concurrency?: number } = {}): Promise<MemoryResult> {
  const calls = opts.calls ?? 5_000
  const warmup = opts.warmup ?? 100
  const api = await startListApi(stack)
  try {
    const client = tokenClient(api.url, stack.token)
    const start = await api.gcAndMeasure()
    await driveListCalls(client, history, warmup, opts.concurrency ?? 20)
    const warm = await api.gcAndMeasure()
    const t0 = performance.now()
    const items = await driveListCalls(client, history, calls, opts.concurrency ?? 20)
    const seconds = (performance.now() - t0) / 1000
    const end = await api.gcAndMeasure()
    const where = await api.detail()
    const result = { start, warm, end, calls, items, seconds }
    console.log(`\n== API memory after runs.list(limit 200) calls, API in its own process, measured after a full GC (target RSS within 100 MB of the start)`)
    const detail = (m: ApiMemory) => `RSS ${mb(m.rss)}, heap used ${mb(m.heapUsed)} (V8 heap reserved ${mb(m.heapTotal)}, external ${mb(m.external)})`
    console.log(`  at start:                 ${detail(start)}`)
    console.log(`  after ${warmup} warm-up calls:   ${detail(warm)}`)
    console.log(`  after ${calls.toLocaleString('en')} more calls:   ${detail(end)}; ${items.toLocaleString('en')} runs served in ${seconds.toFixed(1)} s`)
    console.log(`  difference from the start: RSS ${signedMb(end.rss - start.rss)}, heap used ${signedMb(end.heapUsed - start.heapUsed)}${end.rss - start.rss <= 100 * MB ? '' : '  ABOVE TARGET'}`)
    console.log(`  difference from warm:       RSS ${signedMb(end.rss - warm.rss)}, heap used ${signedMb(end.heapUsed - warm.heapUsed)}`)
    // Where the end's RSS is: V8's pages (its spaces, and the pages it keeps pooled after a
    // collection) are anonymous mappings, as are malloc's other arenas; [heap] is malloc's main arena.
    const r = where.resident
    const spaces = Object.entries(where.spaces).filter(([, sp]) => sp.size > 0).map(([name, sp]) => `${name} ${mb(sp.size)}`).join(', ')
    console.log(`  the end's RSS by mapping: anonymous ${mb(r.anonymous ?? 0)} (V8's committed spaces ${mb(end.heapTotal)}: ${spaces}), C heap ${mb(r.cHeap ?? 0)}, files ${mb(r.files ?? 0)}`)
    // What of it V8 keeps for reuse (pooled pages, the young generation's reserve): given back by
    // the collection V8 makes when the system is short of memory.
    const reduced = await api.reduceAndDetail()
    console.log(`  after V8's memory-reducing collection: RSS ${mb(reduced.memory.rss)} (${signedMb(reduced.memory.rss - start.rss)} from the start), V8's committed spaces ${mb(reduced.memory.heapTotal)}, C heap ${mb(reduced.resident.cHeap ?? 0)}`)
    return result
  } finally {
    await api.stop()
  }
}

/** Both lanes on one stack: seeds 100,000 runs, then latency, then memory. */
export async function listLanes(stack: Stack, opts: { runs?: number } = {}): Promise<void> {
  const runs = opts.runs ?? 100_000
  const history = await seedListHistory(stack, runs)
  console.log(`\n== list history: ${history.runs.toLocaleString('en')} runs over ${history.testIds.length} tests and ${history.locations.length} locations seeded, vacuumed and analysed in ${(history.ms / 1000).toFixed(1)} s`)
  await listLatencyLane(stack, history)
  await listMemoryLane(stack, history)
}
