// The first admin: while no user exists, the API holds one one-time bootstrap token and prints a
// link with it once at start. Whoever opens the link creates the first account, which owns the
// oldest project ("Default"). There is never a default password.
import type { Db } from '@stampede/db'
import { randomSecret, sha256 } from './secrets.ts'

export const BOOTSTRAP_TTL_MS = 24 * 3600 * 1000

/** Returns the bootstrap token to print, or null when an account exists already. */
export async function prepareBootstrap(db: Db, configured?: string): Promise<string | null> {
  if ((await db.user.count()) > 0) return null
  const token = configured ?? randomSecret()
  await db.$transaction([
    // Each start replaces earlier tokens: only the link printed last works.
    db.oneTimeToken.deleteMany({ where: { kind: 'bootstrap' } }),
    db.oneTimeToken.create({ data: { id: sha256(token), kind: 'bootstrap', expiresAt: new Date(Date.now() + BOOTSTRAP_TTL_MS) } }),
  ])
  return token
}
