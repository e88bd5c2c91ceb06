// Secrets grants: how a location runner gets one run's secrets without holding SECRETS_KEY or
// database access. The orchestration worker mints a grant (a random token; only its SHA-256 is
// stored) just before handing the run to a runner; the runner redeems it at the API, which
// decrypts the test's secrets. A grant works once, until it expires, and only while its run is
// queued or running.
import { createHash, randomBytes } from 'node:crypto'
import type { Db } from './index.ts'
import { decryptSecret, parseSecretsKey } from './secrets.ts'

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex')

export interface MintedGrant {
  token: string
  expiresAt: Date
}

/** Mints a grant for `runId`'s secrets, valid for `ttlSeconds`. */
export async function mintSecretsGrant(db: Db, runId: string, ttlSeconds: number, now = new Date()): Promise<MintedGrant> {
  const token = `sg_${randomBytes(32).toString('base64url')}`
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000)
  // A run handed out again (its grant expired while it waited for a runner) keeps one live grant.
  await db.$transaction([db.secretsGrant.deleteMany({ where: { runId, redeemedAt: null } }), db.secretsGrant.create({ data: { id: hashOf(token), runId, expiresAt } })])
  return { token, expiresAt }
}

export type Redemption =
  | { ok: true; secrets: Record<string, string> }
  /** `refused`: no such grant for that run; `used`, `expired`, `ended`: it was one, no longer; `unavailable`: the API cannot decrypt. */
  | { ok: false; why: RedemptionRefusal; message: string }

export type RedemptionRefusal = 'refused' | 'used' | 'expired' | 'ended' | 'unavailable'

/**
 * Redeems a grant: once, before it expires, for its own run while that run is queued or running.
 * Answers the run's test's secrets, decrypted with `secretsKey`. Every refusal says why, without
 * telling a guesser anything about other runs' grants.
 */
export async function redeemSecretsGrant(db: Db, input: { runId: string; token: string }, secretsKey: string | undefined, now = new Date()): Promise<Redemption> {
  const id = hashOf(input.token)
  const grant = await db.secretsGrant.findUnique({ where: { id }, select: { runId: true, expiresAt: true, redeemedAt: true, run: { select: { status: true, testId: true } } } })
  if (!grant || grant.runId !== input.runId) return { ok: false, why: 'refused', message: 'no such secrets grant for this run' }
  if (grant.redeemedAt) return { ok: false, why: 'used', message: 'this secrets grant was already redeemed; a grant works once' }
  if (grant.expiresAt <= now) return { ok: false, why: 'expired', message: 'this secrets grant expired; the run is handed out again with a new one' }
  if (grant.run.status !== 'queued' && grant.run.status !== 'running') return { ok: false, why: 'ended', message: `the run has ended (${grant.run.status}); its secrets are no longer handed out` }
  // Single use even under concurrent redemptions: only one update finds it unredeemed.
  const taken = await db.secretsGrant.updateMany({ where: { id, redeemedAt: null }, data: { redeemedAt: now } })
  if (taken.count !== 1) return { ok: false, why: 'used', message: 'this secrets grant was already redeemed; a grant works once' }
  const rows = grant.run.testId ? await db.testVariable.findMany({ where: { testId: grant.run.testId, secret: true }, select: { name: true, ciphertext: true } }) : []
  if (rows.length === 0) return { ok: true, secrets: {} }
  if (!secretsKey) return { ok: false, why: 'unavailable', message: 'the API has no SECRETS_KEY, so it cannot decrypt the test\'s secrets; set SECRETS_KEY on the API' }
  const key = parseSecretsKey(secretsKey)
  const secrets: Record<string, string> = {}
  for (const row of rows) {
    try {
      secrets[row.name] = decryptSecret(key, row.ciphertext ?? '')
    } catch (err) {
      return { ok: false, why: 'unavailable', message: `secret ${row.name}: ${err instanceof Error ? err.message : String(err)}` }
    }
  }
  return { ok: true, secrets }
}
