// A quicker look at runs.list latency than `BENCH_LANES=lists npm run bench`: one stack, one
// seeded history, then the latency lane's measurement once per API variant, each in a process of
// its own. For profiling and comparing Node flags:
//   LIST_BENCH_RUNS=100000 LIST_API_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof|--max-semi-space-size=64' \
//     npx tsx src/bench/lists-quick.ts
// LIST_API_ARGS: variants separated by `|`, each a space-separated list of Node flags for the API
// process, after the ones it always gets (API_NODE_FLAGS; a later flag wins); empty: one variant. LIST_CASES: the cases to measure, comma-separated
// (default: every one). LIST_CALLS: calls per case at 20 callers (default 400).
// LIST_HOLD=<file>: seed, write what a later run needs (the stack's environment, the token, the
// history) to <file> and keep the stack up until interrupted; LIST_STACK=<file> then measures on
// that stack without starting or seeding one.
import { readFile, writeFile } from 'node:fs/promises'
import { startStack, type Stack } from '../stack.ts'
import { tokenClient } from '../clients.ts'
import { startApiProcess } from './api-process.ts'
import { cpuMsOf } from './proc.ts'
import { listCases, measureListLatency, seedListHistory, trpcList, type ListHistory } from './lists.ts'

const variants = (process.env.LIST_API_ARGS ?? '').split('|').map((v) => v.split(' ').filter(Boolean))
const wanted = process.env.LIST_CASES?.split(',').map((c) => c.trim())
const calls = Number(process.env.LIST_CALLS ?? 400)

interface Held {
  env: Record<string, string>
  token: string
  history: ListHistory
}

async function measure(held: Held) {
  const cases = listCases(held.history).filter((c) => !wanted || wanted.includes(c.name))
  for (const execArgv of variants) {
    const api = await startApiProcess({ ...held.env, API_TOKEN_RATE_LIMIT: '10000000', VALIDATION_RATE_LIMIT: '100000' }, { execArgv })
    try {
      const client = trpcList(tokenClient(api.url, held.token))
      console.log(`\n== API flags: ${execArgv.join(' ') || '(none)'}`)
      for (const c of cases) {
        const a1 = await api.cpu()
        const [alone] = await measureListLatency(client, [c], { concurrency: 1, calls: 200, warmup: 20 })
        const b1 = await api.cpu()
        const cpu1 = (b1.user - a1.user + b1.system - a1.system) / 1000 / 220
        const a = await api.cpu()
        const me = process.cpuUsage()
        const pg0 = await cpuMsOf('postgres')
        const [r] = await measureListLatency(client, [c], { concurrency: 20, calls })
        const b = await api.cpu()
        const mine = process.cpuUsage(me)
        const pgMs = ((await cpuMsOf('postgres')) - pg0) / calls
        const cpu = (b.user - a.user + b.system - a.system) / 1000 / calls
        console.log(`  ${c.name.padEnd(10)} 20 callers: p50 ${r!.p50.toFixed(1)} ms, p95 ${r!.p95.toFixed(1)} ms, max ${r!.max.toFixed(1)} ms, ${r!.perSecond.toFixed(0)} calls/s; API CPU ${cpu.toFixed(2)} ms/call, callers' ${((mine.user + mine.system) / 1000 / calls).toFixed(2)}, Postgres ${pgMs.toFixed(2)}; 1 caller: p50 ${alone!.p50.toFixed(1)} ms, API CPU ${cpu1.toFixed(2)} ms/call`)
      }
    } finally {
      await api.stop()
    }
  }
}

if (process.env.LIST_STACK) {
  await measure(JSON.parse(await readFile(process.env.LIST_STACK, 'utf8')) as Held)
} else {
  const stack: Stack = await startStack({ runner: false })
  try {
    const history = await seedListHistory(stack, Number(process.env.LIST_BENCH_RUNS ?? 100_000))
    console.log(`seeded ${history.runs} runs in ${(history.ms / 1000).toFixed(1)} s`)
    const held: Held = { env: stack.env, token: stack.token, history: { projectId: history.projectId, testIds: history.testIds, locations: history.locations } }
    if (process.env.LIST_HOLD) {
      await writeFile(process.env.LIST_HOLD, JSON.stringify(held))
      console.log(`stack held; its description is in ${process.env.LIST_HOLD}`)
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()).once('SIGTERM', () => resolve()))
    } else {
      await measure(held)
    }
  } finally {
    await stack.stop()
  }
}
process.exit(0)
