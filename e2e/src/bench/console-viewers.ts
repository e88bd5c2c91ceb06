// The viewers of the console fan-out benchmark, in a process of their own (forked by
// console-fanout.ts) so that they neither share the API's event loop nor count in its CPU time.
// Each viewer is a plain WebSocket client that parses every message, as a browser would; for
// every benchmark line (`bench <n> <written at, ms>`) it records line → viewer latency (lines
// that came in `lines` messages; lines filled from the archive after a `gap` count as received,
// not as live deliveries), and the parent gets one summary when every viewer has its `end`.
import WebSocket from 'ws'
import type { ConsoleMessage } from '@stampede/shared'

export interface ViewersStart {
  type: 'start'
  url: string
  headers: Record<string, string>
  viewers: number
  /** Benchmark lines the run writes (numbered 1..total). */
  total: number
}

export interface ViewersSummary {
  viewers: number
  ended: number
  /** Benchmark lines each viewer should hold, summed over viewers. */
  expected: number
  /** Distinct benchmark lines held at the end (live or filled), summed over viewers. */
  received: number
  /** Lines that came in `fill` messages (after a `gap`), summed over viewers. */
  filled: number
  /** Lines announced missing by `gap` messages, summed over viewers. */
  gapLines: number
  /** A line seen twice by one viewer (must stay 0). */
  duplicates: number
  messages: number
  /** Live line → viewer latency: count per whole millisecond (the last bucket holds everything slower). */
  histogram: number[]
}

export type ViewersEvent =
  | { type: 'connected' }
  /** The first and the last benchmark line arrived (cpuMs: this process's CPU time so far). */
  | { type: 'first'; cpuMs: number }
  | { type: 'last'; cpuMs: number }
  | { type: 'done'; summary: ViewersSummary; cpuMs: number }
  | { type: 'failed'; message: string }

const MAX_MS = 60_000
const BENCH_LINE = /bench (\d+) (\d+)/
const send = (event: ViewersEvent) => process.send!(event)
const cpuMs = () => {
  const cpu = process.cpuUsage()
  return (cpu.user + cpu.system) / 1000
}

async function run(start: ViewersStart): Promise<void> {
  const histogram = new Uint32Array(MAX_MS + 1)
  let messages = 0
  let filled = 0
  let gapLines = 0
  let duplicates = 0
  let ended = 0
  let firstSent = false
  let lastSent = false
  const held: Uint8Array[] = []
  const sockets: WebSocket[] = []
  const done = new Promise<void>((resolveAll) => {
    const openOne = (i: number) =>
      new Promise<void>((opened, failed) => {
        const seen = new Uint8Array(start.total + 1)
        held.push(seen)
        const ws = new WebSocket(start.url, { headers: start.headers, perMessageDeflate: false })
        sockets.push(ws)
        const take = (text: string, live: boolean, now: number) => {
          const m = BENCH_LINE.exec(text)
          if (!m) return
          const n = Number(m[1])
          if (n < 1 || n > start.total) return
          if (seen[n]) {
            duplicates++
            return
          }
          seen[n] = 1
          if (!live) {
            filled++
            return
          }
          histogram[Math.min(MAX_MS, Math.max(0, now - Number(m[2])))]!++
          if (!firstSent) {
            firstSent = true
            send({ type: 'first', cpuMs: cpuMs() })
          }
          if (n === start.total && !lastSent) {
            lastSent = true
            send({ type: 'last', cpuMs: cpuMs() })
          }
        }
        ws.on('message', (data) => {
          const now = Date.now()
          messages++
          // Parsed, not validated: the relay tests and e2e tests check the shapes; here the
          // viewers' own cost should stay small beside the API's.
          const message = JSON.parse(String(data)) as ConsoleMessage
          if (message.type === 'lines') for (const line of message.lines) take(line.text, true, now)
          else if (message.type === 'fill') for (const line of message.lines) take(line.text, false, now)
          else if (message.type === 'gap') gapLines += message.to - message.from + 1
          else if (message.type === 'end') {
            ended++
            if (ended === start.viewers) resolveAll()
          } else if (message.type === 'error') send({ type: 'failed', message: `viewer ${i}: ${message.message}` })
        })
        ws.once('open', () => opened())
        ws.once('error', failed)
      })
    // Connect in batches, as a crowd opening a page would, without a thundering herd.
    void (async () => {
      for (let i = 0; i < start.viewers; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, start.viewers - i) }, (_, j) => openOne(i + j)))
      }
      send({ type: 'connected' })
    })().catch((err: unknown) => send({ type: 'failed', message: (err as Error).message }))
  })
  await done
  for (const ws of sockets) ws.close()
  let received = 0
  for (const seen of held) for (let n = 1; n <= start.total; n++) received += seen[n]!
  send({
    type: 'done',
    cpuMs: cpuMs(),
    summary: {
      viewers: start.viewers,
      ended,
      expected: start.viewers * start.total,
      received,
      filled,
      gapLines,
      duplicates,
      messages,
      histogram: Array.from(histogram),
    },
  })
}

process.once('message', (start: ViewersStart) => {
  run(start).catch((err: unknown) => send({ type: 'failed', message: (err as Error).stack ?? String(err) }))
})
