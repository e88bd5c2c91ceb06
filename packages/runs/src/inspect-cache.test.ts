import { describe, expect, it } from 'vitest'
import { InspectCache } from './inspect-cache.ts'
import type { InspectResult } from './inspect.ts'

const loaded = (maxVUs: number): InspectResult => ({ ok: true, requirements: { maxVUs, totalDurationSeconds: 1 } })
const refused: InspectResult = { ok: false, error: { code: 'engine-error', message: 'k6 could not load the script', line: 1, column: 1 } }

/** A loader that counts its calls and answers `answer`. */
function loader(answer: InspectResult) {
  const calls = { n: 0 }
  return { calls, load: async () => (calls.n++, answer) }
}

describe('InspectCache', () => {
  it('answers a script k6 loaded from memory, for the same script, language and environment only', async () => {
    const cache = new InspectCache()
    const k6 = loader(loaded(3))
    const request = { script: 'export default function () {}', language: 'javascript' as const, env: { A: '1', B: '2' } }
    expect(await cache.inspect(request, k6.load)).toEqual(loaded(3))
    // The same variables in another order are the same environment.
    expect(await cache.inspect({ ...request, env: { B: '2', A: '1' } }, k6.load)).toEqual(loaded(3))
    expect(k6.calls.n).toBe(1)
    await cache.inspect({ ...request, env: { A: '1', B: '3' } }, k6.load)
    await cache.inspect({ ...request, env: {} }, k6.load)
    await cache.inspect({ ...request, language: 'typescript' }, k6.load)
    await cache.inspect({ ...request, script: request.script + '\n' }, k6.load)
    expect(k6.calls.n).toBe(5)
  })

  it('does not keep a refusal: the next call asks k6 again', async () => {
    const cache = new InspectCache()
    const k6 = loader(refused)
    const request = { script: 'nope()', language: 'javascript' as const }
    expect(await cache.inspect(request, k6.load)).toEqual(refused)
    expect(await cache.inspect(request, k6.load)).toEqual(refused)
    expect(k6.calls.n).toBe(2)
    expect(cache.size).toBe(0)
  })

  it('keeps at most `max` scripts, dropping the least recently used', async () => {
    const cache = new InspectCache({ max: 2 })
    const k6 = loader(loaded(1))
    for (const script of ['a', 'b', 'a', 'c']) await cache.inspect({ script, language: 'javascript' }, k6.load)
    expect(k6.calls.n).toBe(3)
    expect(cache.size).toBe(2)
    await cache.inspect({ script: 'a', language: 'javascript' }, k6.load) // kept: used after b
    expect(k6.calls.n).toBe(3)
    await cache.inspect({ script: 'b', language: 'javascript' }, k6.load) // dropped for c
    expect(k6.calls.n).toBe(4)
  })

  it('forgets an answer after its time', async () => {
    const clock = { ms: 1000, now: () => clock.ms }
    const cache = new InspectCache({ ttlMs: 60_000, clock })
    const k6 = loader(loaded(1))
    const request = { script: 'a', language: 'javascript' as const }
    await cache.inspect(request, k6.load)
    clock.ms += 59_000
    await cache.inspect(request, k6.load)
    expect(k6.calls.n).toBe(1)
    clock.ms += 2_000
    await cache.inspect(request, k6.load)
    expect(k6.calls.n).toBe(2)
  })
})
