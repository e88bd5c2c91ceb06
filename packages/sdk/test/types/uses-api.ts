// Compiles against the API's real AppRouter (it is part of `tsc -p packages/sdk`). types.test.ts
// also compiles it against a router whose `runs.byId` lost `durationMs`: then the marked line
// below must fail, which proves the SDK's types follow the router rather than a copy of it.
import { createStampedeClient, type Run } from '../../src/index.ts'

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
  return run.status
}
