// Compiles against the API's real AppRouter (it is part of `tsc -p packages/sdk`). types.test.ts
// also compiles it against a router whose `runs.byId` lost `durationMs`: then the marked line
// below must fail, which proves the SDK's types follow the router rather than a copy of it.
import { createStampedeClient, type Run, type RunMetrics, type RunMetricSeries } from '../../src/index.ts'

const client = createStampedeClient({ url: 'http://127.0.0.1:4000' })

export async function usesRunFields(): Promise<number | null> {
  const run: Run = await client.runs.byId.query({ id: 'x' })
  const p95: number | null = run.metrics.httpReqDuration.p95
  // @ts-expect-error — RunDto has no such field; if the API ever adds it, remove this line.
  void run.notAField
  // @ts-expect-error — runs.start needs a location.
  await client.runs.start.mutate({ script: 'export default function () {}' })
  void p95
  return run.durationMs // ← the line that breaks when the API drops durationMs
}

export async function usesHelpers(): Promise<string> {
  for await (const event of client.followConsole('x', { after: 10 })) {
    if (event.type === 'lines') return event.lines.map((l) => `${l.seq} ${l.text}`).join('\n')
    // @ts-expect-error — the iterator never yields server errors (they are thrown as StampedeConsoleError).
    if (event.type === 'error') return 'unreachable'
  }
  const run = await client.runScript({ script: 'export default function () {}', location: 'us-east', env: { BASE_URL: 'x' } })
  // @ts-expect-error — a run of a script and of a saved test at once is refused.
  await client.runScript({ script: 'x', testId: 'y', location: 'us-east' })
  // Raw samples: a run option, a test setting, and on both DTOs.
  const sampled = await client.runScript({ testId: 'y', location: 'us-east', rawSamples: true })
  const test = await client.tests.update.mutate({ id: 'y', rawSamples: false })
  // @ts-expect-error — rawSamples is a boolean.
  await client.runs.start.mutate({ script: 'x', location: 'us-east', rawSamples: 'yes' })
  const kept: boolean = sampled.rawSamples && test.rawSamples
  void kept
  // A job's setting: true or false for every run of its firings, null for each test's own.
  const job = await client.jobs.create.mutate({ name: 'nightly', testIds: ['y'], location: 'us-east', cron: '0 2 * * *', rawSamples: true })
  const jobSetting: boolean | null = (await client.jobs.update.mutate({ id: job.id, rawSamples: null })).rawSamples
  // @ts-expect-error — a job's rawSamples is a boolean or null.
  await client.jobs.update.mutate({ id: job.id, rawSamples: 'tests' })
  void jobSetting
  return run.status
}

export async function usesRunMetrics(): Promise<number | null | undefined> {
  const res: RunMetrics = await client.runs.metrics.query({ runId: 'x', metrics: ['http_req_duration'], from: 0, to: Date.now() })
  const duration: RunMetricSeries | undefined = res.series.find((s) => s.metric === 'http_req_duration')
  const perSecondP95: (number | null)[] | undefined = duration?.points.p95
  void perSecondP95
  // @ts-expect-error — from and to are Unix milliseconds, not dates.
  await client.runs.metrics.query({ runId: 'x', from: new Date() })
  return duration?.total.p95
}
