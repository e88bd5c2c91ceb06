// For tests and benchmarks that make frames or delays: a small seeded generator (mulberry32), so
// a given seed gives the same values on every run. Written here: a dozen lines, and the
// generators on npm bring more than these tests need.

/** Uniform values in [0, 1), the same sequence for the same seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
