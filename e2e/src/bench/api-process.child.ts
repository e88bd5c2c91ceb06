// The API alone in a Node process, forked by api-process.ts with --expose-gc: it serves
// createServer(loadApiConfig(env)) and answers its parent's IPC requests about itself.
import { createServer, loadApiConfig } from '@stampede/api'
import type { ApiProcessReply, ApiProcessRequest } from './api-process.ts'

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('api-process.child.ts must run with --expose-gc')
const send = (reply: ApiProcessReply) => process.send!(reply)

const env = JSON.parse(process.env.STAMPEDE_API_PROCESS_ENV ?? '{}') as Record<string, string>
const server = await createServer(loadApiConfig(env))
const url = await server.start()

/** Full collections until the heap stops shrinking (objects freed by one pass may free more in the next). */
async function collect(): Promise<void> {
  let last = Infinity
  for (let i = 0; i < 10; i++) {
    gc!()
    // Let finalizers, pending callbacks and released sockets run between passes.
    await new Promise((resolve) => setImmediate(resolve))
    const used = process.memoryUsage().heapUsed
    if (used >= last - 64 * 1024) return
    last = used
  }
}

process.on('message', (message: ApiProcessRequest) => {
  void (async () => {
    switch (message.type) {
      case 'gc-and-measure': {
        await collect()
        const m = process.memoryUsage()
        send({ id: message.id, type: 'measure', rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers })
        break
      }
      case 'cpu':
        send({ id: message.id, type: 'cpu', ...process.cpuUsage() })
        break
      case 'stop':
        await server.stop()
        // Exits once the answer is out, whatever handles a client library may still hold.
        process.send!({ id: message.id, type: 'stopped' } satisfies ApiProcessReply, () => process.exit(0))
        break
    }
  })().catch((err: unknown) => send({ id: message.id, type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
})

send({ id: 0, type: 'ready', url, pid: process.pid })
