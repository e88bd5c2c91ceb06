// The API in a Node process of its own, so that what it holds can be measured apart from the
// test or benchmark that drives it (and from the runners, Temporal and S3 clients in that
// process). The child (api-process.child.ts, run by tsx with --expose-gc) serves
// createServer(loadApiConfig(env)) and answers over IPC: `gc-and-measure` collects garbage
// (global.gc until the heap stops shrinking) and returns process.memoryUsage(); `cpu` returns
// process.cpuUsage(); `stop` stops the server.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

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
const E2E_DIR = fileURLToPath(new URL('../..', import.meta.url))

/** Starts the API with `env` (as loadApiConfig reads it; API_PORT=0 picks a free port) in its own process. */
export async function startApiProcess(env: Record<string, string>, opts: { startTimeoutMs?: number; execArgv?: string[] } = {}): Promise<ApiProcess> {
  const child: ChildProcess = fork(CHILD, [], {
    // Resolves `tsx` from the e2e package, whatever the caller's working directory.
    cwd: E2E_DIR,
    // The API's Node flags as `npm start` gives them (apps/api and packages/devstack package.json;
    // README "The API process: CPU per request"), so the benchmark measures what users run.
    execArgv: ['--expose-gc', '--import', 'tsx', ...API_NODE_FLAGS, ...(opts.execArgv ?? [])],
    env: { ...process.env, STAMPEDE_API_PROCESS_ENV: JSON.stringify({ API_PORT: '0', ...env }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const pending = new Map<number, { resolve: (r: ApiProcessReply) => void; reject: (e: Error) => void }>()
  let exited: Error | undefined
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = new Error(`the API process exited (${signal ?? `code ${code}`})`)
      for (const p of pending.values()) p.reject(exited)
      pending.clear()
      resolve()
    })
  })
  child.on('message', (reply: ApiProcessReply) => {
    const p = pending.get(reply.id)
    pending.delete(reply.id)
    if (!p) return
    if (reply.type === 'error') p.reject(new Error(`API process: ${reply.message}`))
    else p.resolve(reply)
  })

  let next = 1
  const request = (type: ApiProcessRequest['type']): Promise<ApiProcessReply> => {
    if (exited) return Promise.reject(exited)
    const id = next++
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      child.send({ id, type } satisfies ApiProcessRequest)
    })
  }

  const ready = await new Promise<ApiProcessReply>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the API process did not start in time')), opts.startTimeoutMs ?? 60_000)
    pending.set(0, {
      resolve: (r) => (clearTimeout(timer), resolve(r)),
      reject: (e) => (clearTimeout(timer), reject(e)),
    })
  }).catch((err: unknown) => {
    child.kill('SIGKILL')
    throw err
  })
  if (ready.type !== 'ready') throw new Error(`API process: unexpected first message ${ready.type}`)

  return {
    url: ready.url,
    pid: ready.pid,
    async gcAndMeasure() {
      const r = await request('gc-and-measure')
      if (r.type !== 'measure') throw new Error(`API process: unexpected reply ${r.type}`)
      const { rss, heapUsed, heapTotal, external, arrayBuffers } = r
      return { rss, heapUsed, heapTotal, external, arrayBuffers }
    },
    async cpu() {
      const r = await request('cpu')
      if (r.type !== 'cpu') throw new Error(`API process: unexpected reply ${r.type}`)
      return { user: r.user, system: r.system }
    },
    async stop() {
      if (exited) return
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await request('stop').catch(() => child.kill('SIGKILL'))
      await exit
      clearTimeout(killer)
    },
  }
}
