import type { Client } from '@temporalio/client'
import type { Db } from '@stampede/db'
import type { RunTrigger } from '@stampede/shared'
import type { Storage } from '@stampede/storage'
import type { ConsoleRelay } from './console/relay.ts'
import type { ApiConfig } from './env.ts'
import type { RunnerPresence } from './runs/presence.ts'
import type { RunListCache } from './runs/list-cache.ts'
import type { ArtifactLinks } from './artifacts/links.ts'
import type { RequestInfo } from './auth/actor.ts'
import type { TokenRateLimiter } from './auth/limits.ts'
import type { K6Sandbox } from '@stampede/sandbox'
import type { ValidationGate } from './scripts/gate.ts'
import type { InspectCache } from '@stampede/runs'

/** Long-lived services, built once per server. */
export interface Services {
  config: ApiConfig
  db: Db
  temporal: Client
  storage: Storage
  presence: RunnerPresence
  /** runs.list's first pages, kept while their project's runs are unchanged. */
  runLists: RunListCache
  relay: ConsoleRelay
  artifactLinks: ArtifactLinks
  tokenLimiter: TokenRateLimiter
  /** Script validation: the k6 sandbox it runs in, the gate that bounds it and k6's recent answers. */
  validation: { sandbox: K6Sandbox; gate: ValidationGate; cache: InspectCache }
}

/** Per-request context: the services plus what the request says about itself. */
export interface Context extends Services {
  /** Runs started from the web UI are `manual`; from the SDK, CLI or plain HTTP, `api`. */
  trigger: RunTrigger
  request: RequestInfo
  /** Adds a Set-Cookie header to the response (sign-in and sign-out). */
  setCookie(value: string): void
}

export function createInnerContext(
  services: Services,
  opts: { client?: string | undefined; request?: RequestInfo; setCookie?: (value: string) => void } = {},
): Context {
  return {
    ...services,
    trigger: opts.client === 'web' ? 'manual' : 'api',
    request: opts.request ?? { address: 'internal' },
    setCookie: opts.setCookie ?? (() => {}),
  }
}
