// A runner alone in a Node process, forked by runner-process.ts: it runs
// createRunner(loadRunnerConfig(env)) and answers its parent's IPC requests about itself.
import { createRunner, loadRunnerConfig } from '@stampede/runner'
import type { RunnerProcessReply, RunnerProcessRequest } from './runner-process.ts'

const send = (reply: RunnerProcessReply) => process.send!(reply)

const env = JSON.parse(process.env.STAMPEDE_RUNNER_PROCESS_ENV ?? '{}') as Record<string, string>
// The runner's own log only when asked (RUNNER_PROCESS_LOG=1): a benchmark prints its figures.
const log = process.env.RUNNER_PROCESS_LOG === '1' ? (line: string) => console.log(`[runner] ${line}`) : () => {}
const runner = await createRunner(loadRunnerConfig(env), { log })

process.on('message', (message: RunnerProcessRequest) => {
  void (async () => {
    switch (message.type) {
      case 'memory': {
        const m = process.memoryUsage()
        send({ id: message.id, type: 'memory', rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers })
        break
      }
      case 'stop':
        await runner.shutdown()
        // Exits once the answer is out, whatever handles a client library may still hold.
        process.send!({ id: message.id, type: 'stopped' } satisfies RunnerProcessReply, () => process.exit(0))
        break
    }
  })().catch((err: unknown) => send({ id: message.id, type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
})
// The parent gone (a benchmark that crashed): stop rather than stay behind as an orphan.
process.on('disconnect', () => void runner.shutdown().finally(() => process.exit(0)))

send({ id: 0, type: 'ready', pid: process.pid, runnerId: runner.id })
