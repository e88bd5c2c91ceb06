import { describe, expect, it } from 'vitest'
import { ConsoleBuffer, type ConsoleEntry } from './console-buffer.ts'

const line = (seq: number, text = `line ${seq}`) => ({ seq, stream: 'stdout' as const, text, time: '2026-01-01T00:00:00.000Z' })
const shape = (entries: ConsoleEntry[]) => entries.map((e) => (e.kind === 'line' ? e.seq : `gap ${e.from}-${e.to}`))

describe('ConsoleBuffer', () => {
  it('keeps lines in seq order whatever order they arrive in', () => {
    const buffer = new ConsoleBuffer()
    for (const seq of [3, 1, 2, 5, 4]) buffer.addLine(line(seq))
    expect(shape(buffer.entries())).toEqual([1, 2, 3, 4, 5])
    expect(buffer.cursor).toBe(5)
  })

  it('ignores a line it already has, keeping the first copy', () => {
    const buffer = new ConsoleBuffer()
    expect(buffer.addLine(line(1, 'first'))).toBe(true)
    expect(buffer.addLine(line(1, 'replayed'))).toBe(false)
    expect(buffer.entries()).toEqual([{ kind: 'line', ...line(1, 'first') }])
    expect(buffer.lineCount).toBe(1)
  })

  it('takes a `lines` message at once, counting only the lines it did not have', () => {
    const buffer = new ConsoleBuffer()
    expect(buffer.addLines([1, 2, 3].map((seq) => line(seq)))).toBe(3)
    expect(buffer.addLines([2, 3, 4, 5].map((seq) => line(seq)))).toBe(2)
    expect(shape(buffer.entries())).toEqual([1, 2, 3, 4, 5])
    expect(buffer.cursor).toBe(5)
  })

  it('resumes from the end of the contiguous prefix, not from the highest seq seen', () => {
    const buffer = new ConsoleBuffer()
    buffer.addLine(line(1))
    buffer.addLine(line(2))
    buffer.addLine(line(4))
    // 3 is neither received nor announced missing, so a reconnect must ask again from 2.
    expect(buffer.cursor).toBe(2)
    buffer.addLine(line(3))
    expect(buffer.cursor).toBe(4)
  })

  it('shows a gap in place of the lines the server can no longer send and resumes after it', () => {
    const buffer = new ConsoleBuffer()
    buffer.addLine(line(1))
    buffer.addGap(2, 40, 'no longer held by the live relay')
    buffer.addLine(line(41))
    expect(shape(buffer.entries())).toEqual([1, 'gap 2-40', 41])
    expect(buffer.entries()[1]).toMatchObject({ reason: 'no longer held by the live relay' })
    expect(buffer.cursor).toBe(41)
  })

  it('does not mark lines it already holds as missing when a gap overlaps them', () => {
    const buffer = new ConsoleBuffer()
    buffer.addLine(line(1))
    buffer.addLine(line(5))
    buffer.addGap(1, 8, 'lost')
    expect(shape(buffer.entries())).toEqual([1, 'gap 2-4', 5, 'gap 6-8'])
    expect(buffer.cursor).toBe(8)
  })

  it('fills a gap with a line that arrives after all, splitting the gap around it', () => {
    const buffer = new ConsoleBuffer()
    buffer.addGap(1, 5, 'lost')
    expect(buffer.addLine(line(3))).toBe(true)
    expect(shape(buffer.entries())).toEqual(['gap 1-2', 3, 'gap 4-5'])
    buffer.addLine(line(1))
    buffer.addLine(line(5))
    expect(shape(buffer.entries())).toEqual([1, 'gap 2-2', 3, 'gap 4-4', 5])
  })

  it('ignores a gap announced twice', () => {
    const buffer = new ConsoleBuffer()
    buffer.addGap(1, 3, 'lost')
    buffer.addGap(1, 3, 'lost again')
    expect(shape(buffer.entries())).toEqual(['gap 1-3'])
  })

  it('marks lines that never arrived as missing when the console ends', () => {
    const buffer = new ConsoleBuffer()
    buffer.addLine(line(1))
    buffer.addLine(line(3))
    buffer.finish(5, 'not received')
    expect(shape(buffer.entries())).toEqual([1, 'gap 2-2', 3, 'gap 4-5'])
    expect(buffer.cursor).toBe(5)
  })

  it('adds nothing when a complete console ends', () => {
    const buffer = new ConsoleBuffer()
    buffer.addLine(line(1))
    buffer.addLine(line(2))
    buffer.finish(2, 'not received')
    buffer.finish(0, 'not received')
    expect(shape(buffer.entries())).toEqual([1, 2])
  })

  it('rejects seqs the protocol never sends', () => {
    const buffer = new ConsoleBuffer()
    expect(buffer.addLine(line(0))).toBe(false)
    expect(buffer.addLine(line(1.5))).toBe(false)
    buffer.addGap(5, 2, 'backwards')
    expect(buffer.entries()).toEqual([])
    expect(buffer.cursor).toBe(0)
  })

  it('returns snapshots that later changes do not alter', () => {
    const buffer = new ConsoleBuffer()
    buffer.addLine(line(1))
    const before = buffer.entries()
    buffer.addLine(line(2))
    expect(shape(before)).toEqual([1])
  })

  it('resumes after a drop without losing or repeating lines, whatever the replay overlaps', () => {
    const buffer = new ConsoleBuffer()
    // First connection: 1..6, but 5 is lost in flight.
    for (const seq of [1, 2, 3, 4, 6]) buffer.addLine(line(seq))
    expect(buffer.cursor).toBe(4) // reconnect with after=4
    // Second connection replays its overlap window (3..8) from the cursor's neighbourhood.
    const added = [3, 4, 5, 6, 7, 8].map((seq) => buffer.addLine(line(seq)))
    expect(added).toEqual([false, false, true, false, true, true])
    expect(shape(buffer.entries())).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(buffer.lineCount).toBe(8)
    expect(buffer.cursor).toBe(8)
  })

  it('resumes after a gap the server announced on reconnect, and keeps lines that raced the gap', () => {
    const buffer = new ConsoleBuffer()
    buffer.addLine(line(1))
    buffer.addLine(line(30)) // arrived just before the connection dropped
    buffer.addGap(2, 40, 'no longer held by the live relay')
    buffer.addLine(line(41))
    expect(shape(buffer.entries())).toEqual([1, 'gap 2-29', 30, 'gap 31-40', 41])
    expect(buffer.cursor).toBe(41)
  })

  it('holds every line once, in order, after many shuffled and repeated deliveries', () => {
    const buffer = new ConsoleBuffer()
    // A fixed pseudo-random order (a linear congruential generator), so a failure reproduces.
    let state = 42
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31)
    const deliveries: number[] = []
    for (let seq = 1; seq <= 300; seq++) deliveries.push(seq, seq) // every line delivered twice
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = next() % (i + 1)
      ;[deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!]
    }
    for (const seq of deliveries) buffer.addLine(line(seq))
    expect(shape(buffer.entries())).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    expect(buffer.lineCount).toBe(300)
    expect(buffer.cursor).toBe(300)
  })

  it('keeps the cursor at the first hole while later lines and gaps pile up', () => {
    const buffer = new ConsoleBuffer()
    buffer.addLine(line(1))
    buffer.addGap(5, 9, 'lost')
    buffer.addLine(line(10))
    expect(buffer.cursor).toBe(1) // 2..4 are neither here nor announced
    buffer.addGap(2, 4, 'lost too')
    expect(buffer.cursor).toBe(10)
    expect(shape(buffer.entries())).toEqual([1, 'gap 2-4', 'gap 5-9', 10])
  })
})
