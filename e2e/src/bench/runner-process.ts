// A runner in a Node process of its own, so that its memory can be measured apart from the
// benchmark that drives it (and from the API, Temporal client and S3 server in that process).
// The child (runner-process.child.ts, run through tsx as `npm start` runs the runner) creates
// createRunner(loadRunnerConfig(env)) and answers over IPC: `memory` returns
// process.memoryUsage() (no collection first: what the process holds as it runs); `stop` shuts the
// runner down. Its RSS, and that of the k6 processes it starts, are read from /proc by the caller
// (procRss, below in proc.ts), so a sample never waits for the runner's event loop.
import { fileURLToPath } from 'node:url'
import { startChildRpc } from './child-rpc.ts'

export type RunnerProcessRequest = { id: number; type: 'memory' | 'stop' }

export type RunnerProcessReply =
  | { id: number; type: 'ready'; pid: number; runnerId: string }
  | ({ id: number; type: 'memory' } & NodeJS.MemoryUsage)
  | { id: number; type: 'stopped' }
  | { id: number; type: 'error'; message: string }

export interface RunnerProcess {
  pid: number
  runnerId: string
  /** process.memoryUsage() in the runner process, as it is (no garbage collection first). */
  memory(): Promise<NodeJS.MemoryUsage>
  stop(): Promise<void>
}

const CHILD = fileURLToPath(new URL('./runner-process.child.ts', import.meta.url))

/** Starts a runner with `env` (as loadRunnerConfig reads it) in its own process. */
export async function startRunnerProcess(env: Record<string, string>, opts: { startTimeoutMs?: number; execArgv?: string[] } = {}): Promise<RunnerProcess> {
  const rpc = await startChildRpc<RunnerProcessRequest['type'], RunnerProcessReply>({
    childFile: CHILD,
    name: 'runner',
    envVar: 'STAMPEDE_RUNNER_PROCESS_ENV',
    env,
    // The runner's `npm start` is `tsx src/main.ts`: no Node flags of its own.
    execArgv: ['--import', 'tsx', ...(opts.execArgv ?? [])],
    // The first start bundles the workflow code (webpack): allow for it on a busy machine.
    startTimeoutMs: opts.startTimeoutMs ?? 180_000,
  })
  const { ready } = rpc
  if (ready.type !== 'ready') throw new Error(`runner process: unexpected first message ${ready.type}`)
  return {
    pid: ready.pid,
    runnerId: ready.runnerId,
    async memory() {
      const r = await rpc.request('memory')
      if (r.type !== 'memory') throw new Error(`runner process: unexpected reply ${r.type}`)
      const { rss, heapUsed, heapTotal, external, arrayBuffers } = r
      return { rss, heapUsed, heapTotal, external, arrayBuffers }
    },
    // A runner shutting down waits for its activities; past this, it is killed.
    stop: () => rpc.stop(60_000),
  }
}
