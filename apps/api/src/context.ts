import type { Client } from '@temporalio/client'
import type { Db } from '@stampede/db'
import type { RunTrigger } from '@stampede/shared'
import type { Storage } from '@stampede/storage'
import type { ConsoleRelay } from './console/relay.ts'
import type { ApiConfig } from './env.ts'
import type { RunnerPresence } from './runs/presence.ts'
import type { ArtifactLinks } from './artifacts/links.ts'

/** Long-lived services, built once per server. */
export interface Services {
  config: ApiConfig
  db: Db
  temporal: Client
  storage: Storage
  presence: RunnerPresence
  relay: ConsoleRelay
  artifactLinks: ArtifactLinks
}

/** Per-request context: the services plus what the request says about itself. */
export interface Context extends Services {
  /** Runs started from the web UI are `manual`; from the SDK, CLI or plain HTTP, `api`. */
  trigger: RunTrigger
}

export function createInnerContext(services: Services, opts: { client?: string | undefined } = {}): Context {
  return { ...services, trigger: opts.client === 'web' ? 'manual' : 'api' }
}
