// What k6 said about a script it loaded a moment ago. The usual way to start a run is to have
// validated its script first: the playground checks it as it is edited, tests.create/update check
// it before saving, and a job fires the same saved script again and again. Each `k6 inspect` is a
// sandboxed k6 process (~120 ms of the run's start), so a process keeps the answers of the last
// few minutes, keyed by everything k6's answer depends on that can differ between calls: the
// script, its language, its files or archive (by path and content hash) and the environment it
// loaded with (secrets are stand-ins there, so no secret value is in a key). The k6 binary, sandbox and limits are fixed for a process. Only
// scripts k6 loaded are kept: a refusal may be a passing fault (a busy machine past the time
// limit), and the caps are applied to the requirements on every call, not kept.
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { ScriptLanguage } from '@stampede/shared/script'
import type { InspectResult } from './inspect.ts'
import { bundleKey, type TestBundle } from './bundle.ts'

export interface InspectCacheOptions {
  /** Scripts remembered at most (least recently used go first); default 500. */
  max?: number
  /** How long an answer is kept; default 10 minutes. */
  ttlMs?: number
  /** The clock the time is kept by (tests); default `performance`. */
  clock?: { now(): number }
}

export interface InspectRequest {
  script: string
  language: ScriptLanguage
  env?: Record<string, string>
  /** The test's files or archive: their paths and hashes are part of the key. */
  bundle?: Pick<TestBundle, 'files' | 'archive'>
}

type Loaded = Extract<InspectResult, { ok: true }>

export class InspectCache {
  private readonly answers: LRUCache<string, Loaded>

  constructor(opts: InspectCacheOptions = {}) {
    this.answers = new LRUCache({ max: opts.max ?? 500, ttl: opts.ttlMs ?? 10 * 60_000, ttlResolution: 0, ...(opts.clock ? { perf: opts.clock } : {}) })
  }

  /** k6's answer for `request`: the remembered one, or `load()`'s (remembered when k6 loaded the script). */
  async inspect(request: InspectRequest, load: () => Promise<InspectResult>): Promise<InspectResult> {
    const key = cacheKey(request)
    const known = this.answers.get(key)
    if (known) return known
    const result = await load()
    if (result.ok) this.answers.set(key, result)
    return result
  }

  get size(): number {
    return this.answers.size
  }
}

function cacheKey({ script, language, env, bundle }: InspectRequest): string {
  const vars = Object.entries(env ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return createHash('sha256').update(JSON.stringify([language, script, vars, bundleKey(bundle)])).digest('hex')
}
