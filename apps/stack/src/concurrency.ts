// How many k6 processes `npm run dev`'s runner runs at once when K6_MAX_CONCURRENCY is unset: one
// per core. A k6 under load keeps a core busy, and in `npm run dev` the API, the runner, Temporal
// and PostgreSQL share the same machine, so more would only slow every run down; at least two,
// so a long run never blocks a quick one on a small machine.
import os from 'node:os'

export interface DevConcurrency {
  value: string
  /** What `npm run dev` prints about its choice. */
  reason: string
}

export function devConcurrency(configured: string | undefined, cores = os.availableParallelism()): DevConcurrency {
  if (configured !== undefined && configured.trim() !== '') return { value: configured, reason: `k6 concurrency: ${configured} (K6_MAX_CONCURRENCY)` }
  const value = String(Math.max(2, cores))
  return { value, reason: `k6 concurrency: ${value} (one k6 per core, ${cores} here; set K6_MAX_CONCURRENCY to change it)` }
}
