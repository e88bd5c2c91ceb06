import { mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { unpackLines } from '@stampede/shared/heartbeat-lines'
import { ConsoleRecorder } from './console-recorder.ts'

async function recorder(limits = { maxAgeMs: 1000, minLines: 3, maxLines: 5, maxBytes: 10_000 }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'recorder-'))
  let now = 0
  const r = new ConsoleRecorder(path.join(dir, 'console.log'), path.join(dir, 'console.ndjson'), limits, () => now)
  return { r, dir, tick: (ms: number) => (now += ms) }
}

describe('ConsoleRecorder', () => {
  it('numbers lines from 1 and writes both the plain log and the structured index', async () => {
    const { r, dir } = await recorder()
    r.add('stdout', 'one')
    r.add('stderr', 'two')
    await r.close()
    expect(await readFile(path.join(dir, 'console.log'), 'utf8')).toBe('one\ntwo\n')
    const index = (await readFile(path.join(dir, 'console.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    expect(index.map((l) => [l.seq, l.stream, l.text])).toEqual([
      [1, 'stdout', 'one'],
      [2, 'stderr', 'two'],
    ])
  })

  it('keeps an overlapping window: recent lines stay in consecutive chunks', async () => {
    const { r, tick } = await recorder()
    for (let i = 1; i <= 4; i++) r.add('stdout', `l${i}`)
    const first = r.takeChunk()!
    r.add('stdout', 'l5')
    const second = r.takeChunk()!
    expect(first.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4])
    expect(second.fromSeq).toBe(1)
    expect(second.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5])
    r.add('stdout', 'l6')
    expect(r.takeChunk()!.lines.map((l) => l.seq)).toEqual([2, 3, 4, 5, 6]) // maxLines
    tick(5000)
    const aged = r.takeChunk(true)!
    // Old lines age out down to minLines; those kept go packed, all but the newest.
    expect(aged.lines.map((l) => l.seq)).toEqual([6])
    expect(aged.fromSeq).toBe(6)
    expect(unpackLines(aged.earlier!)!.map((l) => l.seq)).toEqual([4, 5])
    expect(aged.lastSeq).toBe(6)
    await r.close()
  })

  it('sends the lines older than maxAgeMs packed, packing them again only when they change', async () => {
    const { r, tick } = await recorder({ maxAgeMs: 1000, minLines: 200, maxLines: 3000, maxBytes: 400_000 })
    for (let i = 1; i <= 150; i++) r.add('stdout', `progress ${i}`)
    tick(1500)
    r.add('stdout', 'new 151')
    r.add('stderr', 'new 152')
    const chunk = r.takeChunk()!
    expect(chunk).toMatchObject({ fromSeq: 151, lastSeq: 152 })
    expect(chunk.lines.map((l) => [l.seq, l.stream, l.text])).toEqual([[151, 'stdout', 'new 151'], [152, 'stderr', 'new 152']])
    expect(chunk.earlier).toMatchObject({ fromSeq: 1, lastSeq: 150 })
    const earlier = unpackLines(chunk.earlier!)!
    expect(earlier.map((l) => l.text)).toEqual(Array.from({ length: 150 }, (_, i) => `progress ${i + 1}`))
    // Unchanged: the same packed object; a line that ages in: packed again.
    expect(r.takeChunk(true)!.earlier).toBe(chunk.earlier)
    tick(1500)
    r.add('stdout', 'new 153')
    expect(r.takeChunk()!.earlier).toMatchObject({ fromSeq: 1, lastSeq: 152 })
    await r.close()
  })

  it('reports no chunk when nothing changed unless forced', async () => {
    const { r } = await recorder()
    expect(r.takeChunk()).toBeUndefined()
    expect(r.takeChunk(true)).toEqual({ fromSeq: 1, lines: [], lastSeq: 0 })
    await r.close()
  })

  it('tells its one watcher of every line until it stops watching', async () => {
    const { r } = await recorder()
    const heard: number[] = []
    const first = r.watch(() => heard.push(1))
    r.add('stdout', 'a')
    // A second watcher replaces the first; the first's stop no longer stops it.
    const second = r.watch(() => heard.push(2))
    r.add('stdout', 'b')
    first()
    r.add('stdout', 'c')
    second()
    r.add('stdout', 'd')
    expect(heard).toEqual([1, 2, 2])
    await r.close()
  })
})
