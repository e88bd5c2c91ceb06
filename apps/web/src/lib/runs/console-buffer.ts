// The console as the viewer has it: entries sorted by seq, each a line or a gap (a range the
// server said it can no longer send). Duplicates are dropped, so replays after a reconnect are
// harmless. The resume cursor is the end of the contiguous prefix 1..n of lines and gaps, so a
// reconnect with `after=cursor` can never skip a line we have not seen or been told about.
import type { ConsoleStream } from '@stampede/shared/console'

export interface ConsoleLineEntry {
  kind: 'line'
  seq: number
  stream: ConsoleStream
  text: string
  time: string
}

export interface ConsoleGapEntry {
  kind: 'gap'
  from: number
  to: number
  reason: string
}

export type ConsoleEntry = ConsoleLineEntry | ConsoleGapEntry

const start = (e: ConsoleEntry): number => (e.kind === 'line' ? e.seq : e.from)
const end = (e: ConsoleEntry): number => (e.kind === 'line' ? e.seq : e.to)

export class ConsoleBuffer {
  readonly #entries: ConsoleEntry[] = []
  #cursor = 0
  #lineCount = 0

  /** The last seq of the contiguous prefix: reconnect with `after=cursor`. */
  get cursor(): number {
    return this.#cursor
  }

  get lineCount(): number {
    return this.#lineCount
  }

  /** A snapshot of the entries in seq order. */
  entries(): ConsoleEntry[] {
    return [...this.#entries]
  }

  /** Adds a line; returns false if that seq is already present. A line inside a gap fills it. */
  addLine(line: Omit<ConsoleLineEntry, 'kind'>): boolean {
    if (!Number.isInteger(line.seq) || line.seq < 1) return false
    const i = this.#firstEndingAtOrAfter(line.seq)
    const hit = this.#entries[i]
    const entry: ConsoleLineEntry = { kind: 'line', seq: line.seq, stream: line.stream, text: line.text, time: line.time }
    if (hit && start(hit) <= line.seq) {
      if (hit.kind === 'line') return false
      // Split the gap around the line that turned up after all.
      const pieces: ConsoleEntry[] = []
      if (hit.from < line.seq) pieces.push({ ...hit, to: line.seq - 1 })
      pieces.push(entry)
      if (line.seq < hit.to) pieces.push({ ...hit, from: line.seq + 1 })
      this.#entries.splice(i, 1, ...pieces)
    } else {
      this.#entries.splice(i, 0, entry)
    }
    this.#lineCount++
    this.#advanceCursor()
    return true
  }

  /** Records that [from, to] will not arrive; only the parts not already held become gaps. */
  addGap(from: number, to: number, reason: string): void {
    if (!Number.isInteger(from) || !Number.isInteger(to)) return
    const lo = Math.max(1, from)
    if (to < lo) return
    let pos = lo
    let i = this.#firstEndingAtOrAfter(lo)
    while (pos <= to) {
      const next = this.#entries[i]
      const holeEnd = next ? Math.min(to, start(next) - 1) : to
      if (holeEnd >= pos) {
        this.#entries.splice(i, 0, { kind: 'gap', from: pos, to: holeEnd, reason })
        i++
      }
      if (!next) break
      pos = end(next) + 1
      i++
    }
    this.#advanceCursor()
  }

  /**
   * The console ended at `lastSeq`: any seq up to it that neither arrived nor was announced as
   * a gap is marked missing, so the reader sees that the console is incomplete.
   */
  finish(lastSeq: number, reason: string): void {
    if (lastSeq > 0) this.addGap(1, lastSeq, reason)
  }

  /** Index of the first entry whose range ends at or after seq (entries.length if none). */
  #firstEndingAtOrAfter(seq: number): number {
    let lo = 0
    let hi = this.#entries.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (end(this.#entries[mid]!) < seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  #advanceCursor(): void {
    let i = this.#firstEndingAtOrAfter(this.#cursor + 1)
    for (let next = this.#entries[i]; next && start(next) === this.#cursor + 1; next = this.#entries[++i]) {
      this.#cursor = end(next)
    }
  }
}
