// The list benchmark's callers in a process of their own (see list-callers.child.ts).
import { fileURLToPath } from 'node:url'
import { startChildRpc } from './child-rpc.ts'
import type { LatencyResult, ListHistory } from './lists.ts'

/** The floor's calls (list-callers.child.ts), by name: calls that carry almost nothing. */
export const FLOORS = ['runs.list(limit 1), one run', 'meta.version, no credentials, no database'] as const

export interface MeasureRequest {
  client: 'trpc' | 'plain'
  /** A listCases name, or a floor's name (list-callers.child.ts). */
  caseName: string
  opts: { concurrency?: number; calls?: number; warmup?: number }
}

export type ListCallersReply =
  | { id: number; type: 'ready' }
  | { id: number; type: 'measured'; result: LatencyResult; cpuMs: number }
  | { id: number; type: 'stopped' }
  | { id: number; type: 'error'; message: string }

export interface ListCallers {
  /** One case measured by the callers; `cpuMs` is the callers' process's CPU time for it. */
  measure(request: MeasureRequest): Promise<{ result: LatencyResult; cpuMs: number }>
  stop(): Promise<void>
}

const CHILD = fileURLToPath(new URL('./list-callers.child.ts', import.meta.url))

export async function startListCallers(apiUrl: string, token: string, history: ListHistory): Promise<ListCallers> {
  const rpc = await startChildRpc<'measure' | 'stop', ListCallersReply>({
    childFile: CHILD,
    name: 'list callers',
    envVar: 'STAMPEDE_LIST_CALLERS_ENV',
    env: { apiUrl, token, history: JSON.stringify(history) },
    execArgv: ['--import', 'tsx'],
    startTimeoutMs: 60_000,
  })
  return {
    async measure(request) {
      const r = await rpc.request('measure', request)
      if (r.type !== 'measured') throw new Error(`list callers: unexpected reply ${r.type}`)
      return { result: r.result, cpuMs: r.cpuMs }
    },
    stop: () => rpc.stop(15_000),
  }
}
