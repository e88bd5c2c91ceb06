// Numbers k6's output lines, keeps them on disk (console.log for people, console.ndjson for
// replay with seq/stream/time) and keeps a bounded window of the newest lines for heartbeats.
// The window overlaps consecutive heartbeats so a reader polling a little late loses nothing; its
// lines older than maxAgeMs (kept by minLines, for a viewer who comes in mid-run) go packed, see
// @stampede/shared/heartbeat-lines.
import { createWriteStream, type WriteStream } from 'node:fs'
import type { ConsoleChunk, ConsoleLine, ConsoleStream } from '@stampede/shared'
import { packLines } from '@stampede/shared/heartbeat-lines'
import type { K6Heartbeat, PackedLines } from '@stampede/shared/temporal'

export interface WindowLimits {
  /** Keep lines younger than this in every chunk. */
  maxAgeMs: number
  /** Never fewer than this many lines (when available), whatever their age. */
  minLines: number
  maxLines: number
  maxBytes: number
}

export const DEFAULT_WINDOW: WindowLimits = { maxAgeMs: 1500, minLines: 200, maxLines: 3000, maxBytes: 400_000 }

interface Held {
  line: ConsoleLine
  /** The line's JSON, as the index has it. */
  json: string
  at: number
  bytes: number
}

/** A heartbeat's console: the window's new lines in the clear, the older ones packed. */
export type WindowChunk = ConsoleChunk & Pick<K6Heartbeat, 'earlier'>

export class ConsoleRecorder {
  private seq = 0
  private window: Held[] = []
  private windowBytes = 0
  private readonly logFile: WriteStream
  private readonly indexFile: WriteStream
  private changed = false
  private written = 0
  private listener: (() => void) | undefined
  /** The last earlier lines packed, by the seq range they were packed from: packed again only when it moves. */
  private earlier: { from: number; to: number; packed: PackedLines | undefined } | undefined

  constructor(
    logPath: string,
    indexPath: string,
    private readonly limits: WindowLimits = DEFAULT_WINDOW,
    private readonly now: () => number = Date.now,
    private readonly redact: (text: string) => string = (t) => t,
  ) {
    this.logFile = createWriteStream(logPath)
    this.indexFile = createWriteStream(indexPath)
  }

  get lastSeq(): number {
    return this.seq
  }

  /** Bytes written to the console log so far. */
  get bytesWritten(): number {
    return this.written
  }

  add(stream: ConsoleStream, rawText: string): ConsoleLine {
    const text = this.redact(rawText)
    const at = this.now()
    const line: ConsoleLine = { seq: ++this.seq, stream, text, time: new Date(at).toISOString() }
    this.logFile.write(text + '\n')
    this.written += Buffer.byteLength(text) + 1
    const json = JSON.stringify(line)
    this.indexFile.write(json + '\n')
    const bytes = text.length + 64
    this.window.push({ line, json, at, bytes })
    this.windowBytes += bytes
    this.trim(at)
    this.changed = true
    this.listener?.()
    return line
  }

  /** Calls `listener` after every line added from now on (one listener: a later call replaces it); returns a function that stops it. */
  watch(listener: () => void): () => void {
    this.listener = listener
    return () => {
      if (this.listener === listener) this.listener = undefined
    }
  }

  private trim(now: number): void {
    const { maxAgeMs, minLines, maxLines, maxBytes } = this.limits
    let drop = 0
    while (drop < this.window.length) {
      const remaining = this.window.length - drop
      const head = this.window[drop]!
      const tooMany = remaining > maxLines || this.windowBytes > maxBytes
      const tooOld = remaining > minLines && now - head.at > maxAgeMs
      if (!tooMany && !tooOld) break
      this.windowBytes -= head.bytes
      drop++
    }
    if (drop > 0) this.window = this.window.slice(drop)
  }

  /** The chunk to heartbeat now, or undefined when nothing changed since the last call. */
  takeChunk(force = false): WindowChunk | undefined {
    if (!this.changed && !force) return undefined
    this.changed = false
    const now = this.now()
    this.trim(now)
    // Lines older than maxAgeMs are there for minLines: packed. The newest line always goes in
    // the clear (the workflow reads when k6 was last heard of from it).
    let split = 0
    while (split < this.window.length - 1 && now - this.window[split]!.at > this.limits.maxAgeMs) split++
    const lines = this.window.slice(split).map((h) => h.line)
    const chunk: WindowChunk = { fromSeq: lines[0]?.seq ?? this.seq + 1, lines, lastSeq: this.seq }
    const earlier = this.packEarlier(this.window.slice(0, split))
    return earlier ? { ...chunk, earlier } : chunk
  }

  private packEarlier(held: Held[]): PackedLines | undefined {
    if (held.length === 0) return undefined
    const from = held[0]!.line.seq
    const to = held.at(-1)!.line.seq
    if (this.earlier?.from !== from || this.earlier.to !== to) {
      this.earlier = { from, to, packed: packLines(held.map((h) => h.line), (_, i) => held[i]!.json) }
    }
    return this.earlier.packed
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.logFile, this.indexFile].map((s) => new Promise<void>((resolve, reject) => s.end((err?: Error | null) => (err ? reject(err) : resolve())))),
    )
  }
}
