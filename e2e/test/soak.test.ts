// Soak: the API keeps nothing it has served. The API runs alone in its own Node process
// (src/bench/api-process.ts) on a real database holding a few thousand seeded runs, with a real
// runner behind it; it serves a few thousand runs.list(limit 200) calls over every filter and
// cursor pages while real tiny runs go through it (start, validation in the sandbox, Temporal,
// k6, results), and its heap and RSS after a full GC must end within bounds of where they started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tokenClient, type Api } from '../src/clients.ts'
import { startStack, type Stack } from '../src/stack.ts'
import { runFinished } from '../src/wait.ts'
import type { ApiMemory, ApiProcess } from '../src/bench/api-process.ts'
import { driveListCalls, seedListHistory, startListApi, type ListHistory } from '../src/bench/lists.ts'

const SEEDED_RUNS = 3_000
const LIST_CALLS = 3_000
const REAL_RUNS = 20
/**
 * Heap growth allowed from the warmed-up start to the end, both after a full GC. Measured on the
 * 2-core development machine (shared with other work): +1.6, +1.7 and +2.1 MB over three runs
 * of this test (≈ 465,000 runs served, ≈ 700 MB of JSON, and 20 runs), and +1.9 MB with 2,000
 * calls instead of 3,000: a one-off cost of the first calls and runs, not a growth per call. The bound is four times that: any leak keeping more than about 2 KB per call
 * fails (a list page of 200 runs is about 300 KB). Tried on purpose: keeping every list result
 * in a module-level array grew the heap by 852.6 MB and failed; keeping one run's DTO (≈ 1.6 KB)
 * per call grew it by 6.8 MB, the limit of what this bound resolves.
 */
const HEAP_BOUND_MB = 8
/**
 * RSS growth allowed from the warmed-up start to the end, both after a full GC. The heap bound
 * above catches what the API keeps; RSS also holds what V8 and malloc keep for reuse, which is
 * bounded but not zero:
 *  - V8 pools the old-generation pages a full collection frees and gives them back only when
 *    short of memory, so the pool is about the old generation's peak minus its live part. With
 *    API_HEAP_GROWING_PERCENT=30 (the default) the peak is about 1.3 × the ≈ 50 MB live heap plus
 *    V8's minimum step; with V8's own growth (up to 4 ×) the old generation peaked at ≈ 240 MB
 *    and the RSS stayed 180–230 MB up (issue 17's list benchmark), which this bound fails;
 *  - malloc's arenas (socket buffers, serialised answers, the runner's traffic) and JIT code:
 *    +7 to +40 MB in the list benchmark's API.
 * Measured: +23.7 MB with this test (2-core machine under other load), +40 MB after 2,000 calls
 * by 20 callers on 100,000 runs. 96 MB is about twice the worst of those: it fails the pool at
 * V8's own growth, and a leak outside the heap (Buffers, native memory) of more than about 20 KB
 * per call.
 */
const RSS_BOUND_MB = 96

const MB = 1024 * 1024
const mb = (m: ApiMemory) => `heap ${(m.heapUsed / MB).toFixed(1)} MB, RSS ${(m.rss / MB).toFixed(1)} MB`

let stack: Stack
let api: ApiProcess
let client: Api
let history: ListHistory

beforeAll(async () => {
  stack = await startStack({ runner: false })
  api = await startListApi(stack)
  // The runner fetches run secrets from the API under test.
  await stack.startRunner({ API_PUBLIC_URL: api.url })
  client = tokenClient(api.url, stack.token)
  history = await seedListHistory(stack, SEEDED_RUNS)
})

afterAll(async () => {
  await api?.stop()
  await stack?.stop()
})

/** `count` real runs, `parallel` at a time, each with a script of its own; waits until all are final. */
async function realRuns(count: number, parallel: number, tag: string): Promise<string[]> {
  const statuses: string[] = []
  for (let i = 0; i < count; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - i) }, (_, j) =>
        client.runs.start.mutate({ script: `// soak ${tag} ${i + j}\nexport default function () { console.log('soak ${i + j}') }`, location: 'us-east' }),
      ),
    )
    for (const run of await Promise.all(batch.map((r) => runFinished(client, r.id, 120_000)))) statuses.push(run.status)
  }
  return statuses
}

describe('soak', () => {
  it(`keeps the API's heap after GC within ${HEAP_BOUND_MB} MB and its RSS within ${RSS_BOUND_MB} MB over ${LIST_CALLS} runs.list(limit 200) calls and ${REAL_RUNS} runs`, async () => {
    // Warm-up: first calls compile code and fill the pools and bounded caches.
    await driveListCalls(client, history, 200, 10)
    expect(await realRuns(2, 2, 'warm-up')).toEqual(['passed', 'passed'])
    const start = await api.gcAndMeasure()

    const [served, statuses] = await Promise.all([driveListCalls(client, history, LIST_CALLS, 10), realRuns(REAL_RUNS, 5, 'soak')])
    const end = await api.gcAndMeasure()
    console.log(`[soak] API after GC: start ${mb(start)}; after ${LIST_CALLS} list calls (${served} runs served) and ${REAL_RUNS} runs: ${mb(end)}; heap ${((end.heapUsed - start.heapUsed) / MB).toFixed(1)} MB, RSS ${((end.rss - start.rss) / MB).toFixed(1)} MB`)

    expect(statuses).toEqual(Array.from({ length: REAL_RUNS }, () => 'passed'))
    expect(served).toBeGreaterThan(LIST_CALLS * 100)
    expect((end.heapUsed - start.heapUsed) / MB).toBeLessThan(HEAP_BOUND_MB)
    expect((end.rss - start.rss) / MB).toBeLessThan(RSS_BOUND_MB)
  }, 240_000)
})
