import { loadRunnerConfig } from './env.ts'
import { createRunner } from './worker.ts'

let config
try {
  config = loadRunnerConfig()
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exit(2)
}
const runner = await createRunner(config)
const stop = () => void runner.shutdown()
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
await runner.running
