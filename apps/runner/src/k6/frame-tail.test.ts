// FrameTail against a frames file written piece by piece, as k6 writes it (and as a hostile
// script's handleSummary could): whole frames only, bounded windows, nothing a frame's tags carry
// that is a secret, and garbage skipped.
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MetricFrame } from '@stampede/shared'
import { packFrame, unpackFrame } from '@stampede/shared/heartbeat-frames'
import { FrameTail, nextFrameRead } from './frame-tail.ts'
import { secretRedactor } from './redact.ts'

let dir = ''
let file = ''

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'frame-tail-'))
  file = path.join(dir, 'metrics.ndjson')
  await writeFile(file, '')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const GAMMA = 1.0080321285140563
function frame(seq: number, extra: Partial<MetricFrame> = {}, name = `/item/${seq}`): MetricFrame {
  return {
    v: 1,
    seq,
    start: 1_796_111_541_000 + seq * 1000,
    end: 1_796_111_542_000 + seq * 1000,
    mapping: { kind: 'log', gamma: GAMMA },
    series: [
      { metric: 'http_reqs', type: 'counter', contains: 'default', count: 3, sum: 3 },
      { metric: 'http_reqs', type: 'counter', contains: 'default', tags: { name, method: 'GET', status: '200' }, count: 3, sum: 3 },
      { metric: 'http_req_duration', type: 'trend', contains: 'time', count: 3, sum: 30, min: 9, max: 11, bins: { pos: [[285, 1, 0, 1]] } },
    ],
    ...extra,
  }
}
const line = (f: MetricFrame) => `${JSON.stringify(f)}\n`
/** The frames a heartbeat would carry now, unpacked as the API does. */
const unpacked = (tail: FrameTail) => tail.recent().map((p) => unpackFrame(p)!)
const seqs = (tail: FrameTail) => unpacked(tail).map((f) => f.seq)
const none = secretRedactor([])

describe('FrameTail', () => {
  it('hands out whole frames only, as they are completed, each for maxAgeMs after it was read', async () => {
    let now = 1_000
    const tail = new FrameTail(file, none, { maxFrames: 5, maxAgeMs: 3000, maxBytes: 100_000, maxFrameBytes: 100_000, maxLineBytes: 1_000_000, readBytes: 1_000_000 }, () => now)
    expect(await tail.poll()).toBe(false)
    expect(tail.recent()).toEqual([])
    const text = line(frame(0)) + line(frame(1))
    await appendFile(file, text.slice(0, text.length - 40))
    expect(await tail.poll()).toBe(true)
    expect(await tail.poll()).toBe(false)
    expect(seqs(tail)).toEqual([0])
    now += 2000
    await appendFile(file, text.slice(text.length - 40))
    expect(await tail.poll()).toBe(true)
    expect(seqs(tail)).toEqual([0, 1])
    // Frame 0 was read 3 s ago: later heartbeats no longer carry it.
    now += 1500
    expect(seqs(tail)).toEqual([1])
    now += 2000
    expect(tail.recent()).toEqual([])
    await tail.close()
  })

  it('keeps a window of the newest frames, bounded by count and by bytes', async () => {
    const tail = new FrameTail(file, none, { maxFrames: 3, maxAgeMs: 60_000, maxBytes: 100_000, maxFrameBytes: 100_000, maxLineBytes: 1_000_000, readBytes: 1_000_000 })
    await appendFile(file, Array.from({ length: 8 }, (_, i) => line(frame(i))).join(''))
    await tail.poll()
    expect(seqs(tail)).toEqual([5, 6, 7])
    // Packed bytes: two frames fit, not three.
    const bytes = Math.max(...[5, 6, 7].map((i) => packFrame(frame(i)).gz.length))
    const small = new FrameTail(file, none, { maxFrames: 10, maxAgeMs: 60_000, maxBytes: bytes * 2 + 10, maxFrameBytes: 100_000, maxLineBytes: 1_000_000, readBytes: 1_000_000 })
    await small.poll()
    expect(seqs(small)).toEqual([6, 7])
    await Promise.all([tail.close(), small.close()])
  })

  it('skips what is not a frame: bad JSON, other shapes, a line past the size limit', async () => {
    const tail = new FrameTail(file, none, { maxFrames: 10, maxAgeMs: 60_000, maxBytes: 100_000, maxFrameBytes: 100_000, maxLineBytes: 2000, readBytes: 1_000_000 })
    await appendFile(file, ['not json', '{"v":2,"seq":1}', JSON.stringify({ ...frame(1), series: 'x' }), 'x'.repeat(5000)].join('\n') + '\n' + line(frame(2)))
    await tail.poll()
    expect(seqs(tail)).toEqual([2])
    await tail.close()
  })

  it('sends a frame too large for a heartbeat with its total series only, marked reduced', async () => {
    const big = frame(0, {}, `/${'p'.repeat(3000)}`)
    const tail = new FrameTail(file, none, { maxFrames: 5, maxAgeMs: 60_000, maxBytes: 100_000, maxFrameBytes: 2000, maxLineBytes: 1_000_000, readBytes: 1_000_000 })
    await appendFile(file, line(big))
    await tail.poll()
    const [sent] = unpacked(tail)
    expect(sent!.reduced).toBe(true)
    expect(sent!.series.map((s) => s.metric)).toEqual(['http_reqs', 'http_req_duration'])
    expect(sent!.series.every((s) => s.tags === undefined)).toBe(true)
    await tail.close()
  })

  it('masks secrets in every string of a frame', async () => {
    const secret = 'tok_3f9a7c1e'
    const tail = new FrameTail(file, secretRedactor([secret]))
    await appendFile(file, line(frame(0, {}, `/items?token=${secret}`)))
    await tail.poll()
    const text = JSON.stringify(unpacked(tail))
    expect(text).not.toContain(secret)
    expect(text).toContain('/items?token=[secret]')
    await tail.close()
  })

  it('reads a large backlog over several polls, each bounded', async () => {
    const frames = Array.from({ length: 200 }, (_, i) => line(frame(i))).join('')
    const tail = new FrameTail(file, none, { maxFrames: 5, maxAgeMs: 60_000, maxBytes: 100_000, maxFrameBytes: 100_000, maxLineBytes: 100_000, readBytes: 16 * 1024 })
    await appendFile(file, frames)
    let polls = 0
    while (await tail.poll()) polls++
    expect(polls).toBeGreaterThan(3)
    expect(seqs(tail)).toEqual([195, 196, 197, 198, 199])
    await tail.close()
  })

  it('reads a frame longer than its read buffer whole, however k6 split the writes', async () => {
    // Each poll reads in chunks of one reused buffer (64 KB): a 200 KB frame written in three
    // pieces across polls must come out exactly as written, the chunks before it intact.
    const base = frame(1)
    const series = Array.from({ length: 40 }, (_, i) => ({ ...base.series[1]!, tags: { name: `/${i}/${'q'.repeat(5000)}`, method: 'GET', status: '200' } }))
    const big: MetricFrame = { ...base, series: [...base.series, ...series] }
    const text = line(big)
    const tail = new FrameTail(file, none, { maxFrames: 5, maxAgeMs: 60_000, maxBytes: 1_000_000, maxFrameBytes: 1_000_000, maxLineBytes: 1_000_000, readBytes: 4 * 1024 * 1024 })
    await appendFile(file, line(frame(0)) + text.slice(0, 70_000))
    expect(await tail.poll()).toBe(true)
    await appendFile(file, text.slice(70_000, 150_000))
    expect(await tail.poll()).toBe(false)
    await appendFile(file, text.slice(150_000) + line(frame(2)))
    expect(await tail.poll()).toBe(true)
    expect(unpacked(tail)).toEqual([frame(0), big, frame(2)])
    await tail.close()
  })
})

describe('nextFrameRead', () => {
  // k6 writes a frame on every wall-clock second: read 30 ms after it, and again 250 ms after a read that found none.
  it('reads just after each second, retries a read that found nothing, and never skips a second', () => {
    const second = 1_700_000_000_000
    expect(nextFrameRead(second + 30, true)).toBe(1000)
    expect(nextFrameRead(second + 35, true)).toBe(995)
    expect(nextFrameRead(second + 10, true)).toBe(20)
    expect(nextFrameRead(second + 30, false)).toBe(250)
    expect(nextFrameRead(second + 900, false)).toBe(130)
    expect(nextFrameRead(second + 1029, false)).toBe(1)
  })
})
