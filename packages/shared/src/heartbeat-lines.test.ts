// Packed console lines: what the runner packs is what the API unpacks, bounded both ways, and
// anything else (not gzip, a bomb, not lines, a range that does not match) unpacks to nothing.
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { ConsoleLine } from './console.ts'
import { EARLIER_LINES_BYTES, packLines, unpackLines } from './heartbeat-lines.ts'

const line = (seq: number, text = `line ${seq} ✓ "quoted"`): ConsoleLine => ({ seq, stream: seq % 2 ? 'stdout' : 'stderr', text, time: '2026-12-03T01:00:00.000Z' })
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i))
const gz = (text: string) => gzipSync(text).toString('base64')

describe('packed console lines', () => {
  it('unpack to the lines packed, with their range in the clear', () => {
    const packed = packLines(lines(5, 204))!
    expect(packed).toMatchObject({ fromSeq: 5, lastSeq: 204 })
    expect(unpackLines(packed)).toEqual(lines(5, 204))
    expect(packLines([])).toBeUndefined()
  })

  it('keep the newest lines that fit in EARLIER_LINES_BYTES of JSON', () => {
    const big = (seq: number) => line(seq, 'x'.repeat(100 * 1024))
    const packed = packLines([1, 2, 3, 4, 5, 6, 7].map(big))!
    expect(packed).toMatchObject({ fromSeq: 3, lastSeq: 7 })
    expect(unpackLines(packed)!.map((l) => l.seq)).toEqual([3, 4, 5, 6, 7])
    expect(packLines([line(1, 'x'.repeat(EARLIER_LINES_BYTES))])).toBeUndefined()
  })

  it('unpack to nothing when they are not what they say', () => {
    const good = packLines(lines(1, 3))!
    expect(unpackLines({ ...good, gz: 'not base64 gzip' })).toBeUndefined()
    expect(unpackLines({ fromSeq: 1, lastSeq: 3, gz: gz(' '.repeat(EARLIER_LINES_BYTES + 1)) })).toBeUndefined()
    expect(unpackLines({ fromSeq: 1, lastSeq: 3, gz: gz('[{"seq":1}]') })).toBeUndefined()
    expect(unpackLines({ fromSeq: 1, lastSeq: 3, gz: gz(JSON.stringify([line(1), line(3), line(2)])) })).toBeUndefined()
    expect(unpackLines({ ...good, lastSeq: 4 })).toBeUndefined()
    expect(unpackLines({ ...good, fromSeq: 2 })).toBeUndefined()
    expect(unpackLines({ fromSeq: 1, lastSeq: 1, gz: gz('[]') })).toBeUndefined()
    // A smaller bound of the reader's own.
    expect(unpackLines(good, 10)).toBeUndefined()
  })
})
