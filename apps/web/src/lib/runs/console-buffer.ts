// The console as the viewer has it: entries sorted by seq, each a line or a gap (a range the
// server said it can no longer send). Duplicates are dropped, so replays after a reconnect are
// harmless. The cursor is the end of the contiguous prefix 1..n of lines and gaps, so a
// reconnect with `after=cursor` can never skip a line we have not seen or been told about; a
// reconnect with `after=resumeAfter` also starts before the first gap, so that the server can
// still fill it. Filled lines (`fill`) take the place of their gap.
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

  /** Where a reconnect starts: the cursor, or before the first gap (the server fills gaps it announced on that connection). */
  get resumeAfter(): number {
    const firstGap = this.#entries.find((e) => e.kind === 'gap')
    return firstGap && firstGap.from <= this.#cursor ? firstGap.from - 1 : this.#cursor
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

  /** Adds the lines of a `lines` message (see addLine); returns how many were new. */
  addLines(lines: readonly Omit<ConsoleLineEntry, 'kind'>[]): number {
    let added = 0
    for (const line of lines) if (this.addLine(line)) added++
    return added
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
   * Lines of an announced range (from..to, in seq order), as the stored log has them: they take
   * the place of the gap there in one pass; lines already held stay, and seqs the log lacks stay
   * a gap. Returns how many lines were new.
   */
  addFill(from: number, to: number, lines: readonly Omit<ConsoleLineEntry, 'kind'>[]): number {
    if (!Number.isInteger(from) || !Number.isInteger(to) || to < Math.max(1, from)) return 0
    const fresh: ConsoleLineEntry[] = []
    for (const l of [...lines].sort((x, y) => x.seq - y.seq)) {
      if (!Number.isInteger(l.seq) || l.seq < Math.max(1, from) || l.seq > to || l.seq === fresh.at(-1)?.seq) continue
      fresh.push({ kind: 'line', seq: l.seq, stream: l.stream, text: l.text, time: l.time })
    }
    if (fresh.length === 0) return 0
    // The entries that touch [from, to] are rebuilt in one pass: held lines stay, new lines
    // split the gaps they fall in.
    const lo = this.#firstEndingAtOrAfter(from)
    let hi = lo
    while (hi < this.#entries.length && start(this.#entries[hi]!) <= to) hi++
    const rebuilt: ConsoleEntry[] = []
    let added = 0
    let i = 0
    const takeBefore = (seq: number) => {
      for (; i < fresh.length && fresh[i]!.seq < seq; i++, added++) rebuilt.push(fresh[i]!)
    }
    for (const entry of this.#entries.slice(lo, hi)) {
      if (entry.kind === 'line') {
        takeBefore(entry.seq)
        if (fresh[i]?.seq === entry.seq) i++
        rebuilt.push(entry)
        continue
      }
      takeBefore(entry.from)
      let pos = entry.from
      for (; i < fresh.length && fresh[i]!.seq <= entry.to; i++, added++) {
        const line = fresh[i]!
        if (line.seq > pos) rebuilt.push({ ...entry, from: pos, to: line.seq - 1 })
        rebuilt.push(line)
        pos = line.seq + 1
      }
      if (pos <= entry.to) rebuilt.push({ ...entry, from: pos, to: entry.to })
    }
    takeBefore(Infinity)
    this.#entries.splice(lo, hi - lo, ...rebuilt)
    this.#lineCount += added
    this.#advanceCursor()
    return added
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
