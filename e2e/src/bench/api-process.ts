// The API in a Node process of its own, so that what it holds can be measured apart from the
// test or benchmark that drives it (and from the runners, Temporal and S3 clients in that
// process). The child (api-process.child.ts, run by tsx with --expose-gc) serves
// createServer(loadApiConfig(env)) and answers over IPC: `gc-and-measure` collects garbage
// (global.gc until the heap stops shrinking) and returns process.memoryUsage(); `cpu` returns
// process.cpuUsage(); `stop` stops the server.
import { fileURLToPath } from 'node:url'
import { startChildRpc } from './child-rpc.ts'

export type ApiProcessRequest = { id: number; type: 'gc-and-measure' | 'cpu' | 'stop' }

export interface ApiMemory {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
}

export type ApiProcessReply =
  | { id: number; type: 'ready'; url: string; pid: number }
  | ({ id: number; type: 'measure' } & ApiMemory)
  | ({ id: number; type: 'cpu' } & NodeJS.CpuUsage)
  | { id: number; type: 'stopped' }
  | { id: number; type: 'error'; message: string }

export interface ApiProcess {
  url: string
  pid: number
  /** Memory after a full garbage collection in the API process. */
  gcAndMeasure(): Promise<ApiMemory>
  /** The API process's CPU time so far (µs). */
  cpu(): Promise<NodeJS.CpuUsage>
  stop(): Promise<void>
}

/** The Node flags the API is started with (a larger young generation: fewer objects of a request promoted and collected as old). */
export const API_NODE_FLAGS = ['--max-semi-space-size=32']

const CHILD = fileURLToPath(new URL('./api-process.child.ts', import.meta.url))

/** Starts the API with `env` (as loadApiConfig reads it; API_PORT=0 picks a free port) in its own process. */
export async function startApiProcess(env: Record<string, string>, opts: { startTimeoutMs?: number; execArgv?: string[] } = {}): Promise<ApiProcess> {
  const rpc = await startChildRpc<ApiProcessRequest['type'], ApiProcessReply>({
    childFile: CHILD,
    name: 'API',
    envVar: 'STAMPEDE_API_PROCESS_ENV',
    env: { API_PORT: '0', ...env },
    // The API's Node flags as `npm start` gives them (apps/api and apps/stack package.json;
    // README "The API process: CPU per request"), so the benchmark measures what users run.
    execArgv: ['--expose-gc', '--import', 'tsx', ...API_NODE_FLAGS, ...(opts.execArgv ?? [])],
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
  })
  const { ready } = rpc
  if (ready.type !== 'ready') throw new Error(`API process: unexpected first message ${ready.type}`)
  return {
    url: ready.url,
    pid: ready.pid,
    async gcAndMeasure() {
      const r = await rpc.request('gc-and-measure')
      if (r.type !== 'measure') throw new Error(`API process: unexpected reply ${r.type}`)
      const { rss, heapUsed, heapTotal, external, arrayBuffers } = r
      return { rss, heapUsed, heapTotal, external, arrayBuffers }
    },
    async cpu() {
      const r = await rpc.request('cpu')
      if (r.type !== 'cpu') throw new Error(`API process: unexpected reply ${r.type}`)
      return { user: r.user, system: r.system }
    },
    stop: () => rpc.stop(15_000),
  }
}
