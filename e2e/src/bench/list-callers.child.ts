// The list benchmark's callers in a Node process of their own, forked by list-callers.ts: as real
// clients are, they are apart from the stack the benchmark process holds (its S3 server, its
// Temporal client, the seeded history), whose CPU and garbage collections would otherwise pause
// every caller at once and be counted as the API's latency. Answers `measure` (one case's
// latencies, with this process's CPU time for it) and `stop`.
import { tokenClient } from '../clients.ts'
import { listCases, measureListLatency, plainList, trpcList, type ListCall, type ListHistory, type LatencyResult } from './lists.ts'
import { FLOORS, type ListCallersReply, type MeasureRequest } from './list-callers.ts'

const env = JSON.parse(process.env.STAMPEDE_LIST_CALLERS_ENV ?? '{}') as { apiUrl: string; token: string; history: string }
const { apiUrl, token } = env
const history = JSON.parse(env.history) as ListHistory
const send = (reply: ListCallersReply) => process.send!(reply)
const trpc = tokenClient(apiUrl, token)
const clients: Record<MeasureRequest['client'], ListCall> = { trpc: trpcList(trpc), plain: plainList(apiUrl, token) }
// The floor: calls that carry almost nothing, through the tRPC client.
const floors: Record<string, ListCall> = {
  [FLOORS[0]]: (input) => trpc.runs.list.query({ ...input, limit: 1 }),
  [FLOORS[1]]: async () => ({ items: [await trpc.meta.version.query()] }),
}

async function measure(m: MeasureRequest): Promise<{ result: LatencyResult; cpuMs: number }> {
  const floor = floors[m.caseName]
  const c = floor ? { name: m.caseName, input: () => ({ projectId: history.projectId }) } : listCases(history).find((x) => x.name === m.caseName)
  if (!c) throw new Error(`no list case "${m.caseName}"`)
  const cpu = process.cpuUsage()
  const [result] = await measureListLatency(floor ?? clients[m.client], [c], m.opts)
  const used = process.cpuUsage(cpu)
  return { result: result!, cpuMs: (used.user + used.system) / 1000 }
}

process.on('message', (message: { id: number; type: 'measure' | 'stop'; payload?: MeasureRequest }) => {
  void (async () => {
    if (message.type === 'measure') send({ id: message.id, type: 'measured', ...(await measure(message.payload!)) })
    else process.send!({ id: message.id, type: 'stopped' } satisfies ListCallersReply, () => process.exit(0))
  })().catch((err: unknown) => send({ id: message.id, type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
})

send({ id: 0, type: 'ready' })
