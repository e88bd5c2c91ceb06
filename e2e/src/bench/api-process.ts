// The API in a Node process of its own, so that what it holds can be measured apart from the
// test or benchmark that drives it (and from the runners, Temporal and S3 clients in that
// process). The child (api-process.child.ts, run by tsx with --expose-gc) serves
// createServer(loadApiConfig(env)) and answers over IPC: `gc-and-measure` collects garbage
// (global.gc until the heap stops shrinking) and returns process.memoryUsage(); `cpu` returns
// process.cpuUsage(); `stop` stops the server.
import { fileURLToPath } from 'node:url'
import { startChildRpc } from './child-rpc.ts'

export type ApiProcessRequest = { id: number; type: 'gc-and-measure' | 'detail' | 'reduce' | 'cpu' | 'stop' }

export interface ApiMemory {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
}

/** Where the API process's memory is, as it is now (no collection first). */
export interface ApiMemoryDetail {
  memory: ApiMemory
  /** V8's heap spaces by name (new_space, old_space, code_space, large_object_space …), bytes. */
  spaces: Record<string, { size: number; used: number; available: number; physical: number }>
  /** Resident bytes by kind of mapping (/proc/<pid>/smaps): cHeap, anonymous, files, other. */
  resident: Record<string, number>
}

export type ApiProcessReply =
  | { id: number; type: 'ready'; url: string; pid: number }
  | ({ id: number; type: 'measure' } & ApiMemory)
  | ({ id: number; type: 'detail' } & ApiMemoryDetail)
  | ({ id: number; type: 'cpu' } & NodeJS.CpuUsage)
  | { id: number; type: 'stopped' }
  | { id: number; type: 'error'; message: string }

export interface ApiProcess {
  url: string
  pid: number
  /** Memory after a full garbage collection in the API process. */
  gcAndMeasure(): Promise<ApiMemory>
  /** Where the memory is now (call gcAndMeasure first for the state after a full GC). */
  detail(): Promise<ApiMemoryDetail>
  /** The API process's CPU time so far (µs). */
  cpu(): Promise<NodeJS.CpuUsage>
  stop(): Promise<void>
  /**
   * Where the memory is after V8's memory-reducing collection (the one it makes when the system
   * is short of memory): what V8 keeps pooled for reuse is given back, what is live is not.
   */
  reduceAndDetail(): Promise<ApiMemoryDetail>
}

/** The Node flags the API is started with (a larger young generation: fewer objects of a request promoted and collected as old). */
export const API_NODE_FLAGS = ['--max-semi-space-size=32']

const CHILD = fileURLToPath(new URL('./api-process.child.ts', import.meta.url))

/** Starts the API with `env` (as loadApiConfig reads it; API_PORT=0 picks a free port) in its own process. */
export async function startApiProcess(env: Record<string, string>, opts: { startTimeoutMs?: number; execArgv?: string[]; processEnv?: Record<string, string> } = {}): Promise<ApiProcess> {
  const rpc = await startChildRpc<ApiProcessRequest['type'], ApiProcessReply>({
    childFile: CHILD,
    name: 'API',
    envVar: 'STAMPEDE_API_PROCESS_ENV',
    env: { API_PORT: '0', ...env },
    // The API's Node flags as `npm start` gives them (apps/api and apps/stack package.json;
    // README "The API process: CPU per request"), so the benchmark measures what users run.
    execArgv: ['--expose-gc', '--import', 'tsx', ...API_NODE_FLAGS, ...(opts.execArgv ?? [])],
    processEnv: opts.processEnv ?? {},
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
    async detail() {
      const r = await rpc.request('detail')
      if (r.type !== 'detail') throw new Error(`API process: unexpected reply ${r.type}`)
      return { memory: r.memory, spaces: r.spaces, resident: r.resident }
    },
    async cpu() {
      const r = await rpc.request('cpu')
      if (r.type !== 'cpu') throw new Error(`API process: unexpected reply ${r.type}`)
      return { user: r.user, system: r.system }
    },
    stop: () => rpc.stop(15_000),
    async reduceAndDetail() {
      const r = await rpc.request('reduce')
      if (r.type !== 'detail') throw new Error(`API process: unexpected reply ${r.type}`)
      return { memory: r.memory, spaces: r.spaces, resident: r.resident }
    },
  }
}
