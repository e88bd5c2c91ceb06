import { loadApiConfig } from './env.ts'
import { createServer } from './server.ts'

let config
try {
  config = loadApiConfig()
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exit(2)
}
const server = await createServer(config)
const url = await server.start()
console.log(`[api] listening on ${url}`)
if (server.bootstrapLink) {
  // The only way in until the first account exists; printed once, never logged again.
  console.log(`[api] No account exists yet. Create the first admin with this one-time link (valid 24 h):\n[api]   ${server.bootstrapLink}`)
}
const stop = () => void server.stop().then(() => process.exit(0))
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
