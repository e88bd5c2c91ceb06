// The API alone in a Node process, forked by api-process.ts with --expose-gc: it serves
// createServer(loadApiConfig(env)) and answers its parent's IPC requests about itself: memory
// after a full GC, where the memory is (detail), the same after V8's memory-reducing collection
// (reduce), CPU time, stop.
import { readFile } from 'node:fs/promises'
import v8 from 'node:v8'
import { createServer, loadApiConfig } from '@stampede/api'
import type { ApiMemoryDetail, ApiProcessReply, ApiProcessRequest } from './api-process.ts'

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

/**
 * Where the resident memory is, from /proc/self/smaps: the C heap ([heap], the main malloc arena),
 * other anonymous mappings (V8's heap pages, further malloc arenas, mmapped malloc chunks), and
 * files (the node binary, shared libraries).
 */
async function residentBreakdown(): Promise<Record<string, number>> {
  const smaps = await readFile('/proc/self/smaps', 'utf8')
  const out: Record<string, number> = { cHeap: 0, anonymous: 0, files: 0, other: 0 }
  let kind = 'other'
  for (const line of smaps.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line)
    if (head) {
      const name = head[1]!
      kind = name === '[heap]' ? 'cHeap' : name === '' ? 'anonymous' : name.startsWith('/') ? 'files' : 'other'
      continue
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    if (rss) out[kind]! += Number(rss[1]) * 1024
  }
  return out
}

async function detail(): Promise<ApiMemoryDetail> {
  const m = process.memoryUsage()
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size, available: s.space_available_size, physical: s.physical_space_size }]))
  return { memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }, spaces, resident: await residentBreakdown() }
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
      case 'reduce': {
        // V8's memory-reducing full collection, the one it makes when the system is short of
        // memory: it also gives back the pages V8 keeps pooled and shrinks the young generation.
        ;(gc as unknown as (options: object) => void)({ type: 'major', execution: 'sync', flavor: 'last-resort' })
        await new Promise((resolve) => setImmediate(resolve))
        send({ id: message.id, type: 'detail', ...(await detail()) })
        break
      }
      case 'detail':
        send({ id: message.id, type: 'detail', ...(await detail()) })
        break
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
