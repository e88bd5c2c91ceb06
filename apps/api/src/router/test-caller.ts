// Router tests call procedures as an API token would: createCaller with the parts of the context
// the procedures read (the database, the token's request, a limiter that never refuses), plus
// whatever a test adds (configuration, Temporal and validation stand-ins).
import type { Db } from '@stampede/db'
import type { Context } from '../context.ts'
import { TokenRateLimiter } from '../auth/limits.ts'
import { RunListCache } from '../runs/list-cache.ts'
import { createCallerFactory } from '../trpc.ts'
import { appRouter } from './root.ts'

export const createCaller = createCallerFactory(appRouter)
export type Caller = ReturnType<typeof createCaller>

/** A caller holding `token` (Authorization: Bearer), over `db`. */
export function tokenCaller(db: Db, token: string, extra: Record<string, unknown> = {}): Caller {
  return createCaller({
    db,
    tokenLimiter: new TokenRateLimiter(1_000_000),
    presence: { waitingFor: async () => false },
    runLists: new RunListCache(1024 * 1024),
    request: { authorization: `Bearer ${token}`, address: 'test' },
    trigger: 'api',
    setCookie: () => {},
    ...extra,
  } as unknown as Context)
}
