// Benchmark lane for a run's stored metric frames (issue 14 part 2): a synthetic one-hour run
// (3,600 frames with the series a simple HTTP script makes k6 write: 20 totals, 45 tagged series
// over four endpoints) is stored through the ingestion the runner uses, then runs.metrics is
// called through the real API over HTTP for (a) every metric's totals, (b) http_req_duration
// with its p95 over the hour and (c) a tagged query, 20 times each, one call at a time: p50/p95
// (target p95 ≤ 300 ms), with the ingestion time and the size of each answer. Then where (a)'s
// time goes (the chunk rows read and parsed, the answer serialised and parsed, in this process),
// and (a) once more against an API in a process of its own started as `npm start` starts it
// (API_NODE_FLAGS), where the client's parsing and garbage are not the API's.
import { performance } from 'node:perf_hooks'
import { Readable } from 'node:stream'
import { randomUUID } from 'node:crypto'
import { createDb, pgQuery } from '@stampede/db'
import { ingestMetricFrames } from '@stampede/runs/metrics'
import { syntheticFrameStream } from '@stampede/runs/frames-fixture'
import { tokenClient, type Api } from '../clients.ts'
import type { Stack } from '../stack.ts'
import { startApiProcess } from './api-process.ts'
import { quantile } from './stats.ts'

type MetricsInput = Parameters<Api['runs']['metrics']['query']>[0]

const PERIODS = 3600
const CALLS = 20
const TARGET_P95_MS = 300


/** `fn` timed `n` times, one call at a time: the sorted times (ms). */
async function timed(n: number, fn: () => unknown): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
  }
  return times.sort((a, b) => a - b)
}
const p50p95 = (t: number[]) => `p50 ${quantile(t, 0.5).toFixed(1).padStart(6)} ms, p95 ${quantile(t, 0.95).toFixed(1).padStart(6)} ms`

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}

export async function metricsLane(stack: Stack): Promise<void> {
  const url = stack.env.DATABASE_URL
  if (!url) throw new Error('the stack has no DATABASE_URL')
  const db = createDb(url, { max: 4 })
  try {
    const location = await db.location.findFirstOrThrow({ select: { id: true } })
    const runId = randomUUID()
    await db.run.create({ data: { id: runId, projectId: stack.projectId, script: '// metrics lane', locationId: location.id, trigger: 'api', workflowId: `run-${runId}`, timeoutSeconds: 3600, status: 'passed' } })

    // The file is made first (the synthetic generator is slower than the ingestion), then stored from memory as from S3.
    let t0 = performance.now()
    const file = await collect(syntheticFrameStream({ periods: PERIODS, requestsPerSecond: 50 }))
    const madeMs = performance.now() - t0
    t0 = performance.now()
    const stored = await ingestMetricFrames(db, runId, Readable.from([file]))
    const ingestMs = performance.now() - t0
    console.log(`\n== runs.metrics on a one-hour run (${PERIODS.toLocaleString('en')} frames; target p95 ≤ ${TARGET_P95_MS} ms)`)
    console.log(`  frames file: ${(file.length / 1024 / 1024).toFixed(1)} MB gzipped, made in ${(madeMs / 1000).toFixed(1)} s`)
    console.log(`  ingestion: ${stored.frames.toLocaleString('en')} frames, ${stored.series} series, ${stored.chunks.toLocaleString('en')} chunk rows in ${(ingestMs / 1000).toFixed(1)} s${stored.problem ? ` (problem: ${stored.problem})` : ''}`)

    const cases: { name: string; input: MetricsInput; check: (res: Awaited<ReturnType<Api['runs']['metrics']['query']>>) => string }[] = [
      {
        name: '(a) every metric, totals',
        input: { runId },
        check: (res) => `${res.series.length} series × ${res.periods.start.length} periods`,
      },
      {
        name: '(b) http_req_duration, p95 over the hour',
        input: { runId, metrics: ['http_req_duration'] },
        check: (res) => `p95 over the hour ${res.series[0]?.total.p95?.toFixed(2)} ms over ${res.series[0]?.total.count.toLocaleString('en')} requests`,
      },
      {
        name: '(c) tagged: the orders endpoint, 3 metrics',
        input: { runId, metrics: ['http_req_duration', 'http_reqs', 'http_req_failed'], tags: { name: 'http://target/api/orders' } },
        check: (res) => `${res.series.length} series: ${res.series.map((s) => s.metric).join(', ')}`,
      },
    ]
    for (const c of cases) {
      const times: number[] = []
      let bytes = 0
      let detail = ''
      // One warm-up call (connection, the API's first query plans), not counted.
      await stack.api.runs.metrics.query(c.input)
      for (let i = 0; i < CALLS; i++) {
        const start = performance.now()
        const res = await stack.api.runs.metrics.query(c.input)
        times.push(performance.now() - start)
        if (i === 0) {
          bytes = JSON.stringify(res).length
          detail = c.check(res)
        }
      }
      times.sort((a, b) => a - b)
      const p95 = quantile(times, 0.95)
      console.log(`  ${c.name.padEnd(44)} ${p50p95(times)}${p95 <= TARGET_P95_MS ? '' : '  ABOVE TARGET'}; ${(bytes / 1024 / 1024).toFixed(2)} MB of JSON; ${detail}`)
    }

    // Where (a)'s time goes, part by part in this process (the API's and the client's alike).
    const all = await stack.api.runs.metrics.query({ runId })
    const chunks = await timed(CALLS, () =>
      pgQuery(db, {
        text: `SELECT c.series_id, c.chunk_start, c.first_start, c.last_start, c.points FROM run_metric_chunks c JOIN run_metric_series s ON s.id = c.series_id
                WHERE s.run_id = $1 AND s.tags IS NULL AND NOT s.overflow ORDER BY c.series_id, c.chunk_start`,
        values: [runId],
      }),
    )
    const text = JSON.stringify(all)
    const stringify = await timed(CALLS, () => JSON.stringify(all))
    const parse = await timed(CALLS, () => JSON.parse(text))
    console.log(`  (a) part by part: its chunk rows read and their JSON parsed ${p50p95(chunks)}; the answer (${(text.length / 1024 / 1024).toFixed(2)} MB) serialised ${p50p95(stringify)}, parsed ${p50p95(parse)}`)

    // (a) against an API in a process of its own, as `npm start` runs it.
    const apiProcess = await startApiProcess({ ...stack.env, API_TOKEN_RATE_LIMIT: '10000000', VALIDATION_RATE_LIMIT: '100000' })
    try {
      const api = tokenClient(apiProcess.url, stack.token)
      await api.runs.metrics.query({ runId })
      const times = await timed(CALLS, () => api.runs.metrics.query({ runId }))
      const p95 = quantile(times, 0.95)
      console.log(`  ${'(a) again, the API in its own process'.padEnd(44)} ${p50p95(times)}${p95 <= TARGET_P95_MS ? '' : '  ABOVE TARGET'}`)
    } finally {
      await apiProcess.stop()
    }
    await db.run.delete({ where: { id: runId } })
  } finally {
    await db.$disconnect()
  }
}
