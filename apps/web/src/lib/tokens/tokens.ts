// API tokens as the tokens page shows them: whether a token still works, and the expiry date a
// person picks turned into the instant the API stores (the end of that day, in their time zone).
import type { TokenScope } from '@stampede/shared'

export type TokenState = 'active' | 'revoked' | 'expired'

export function tokenState(token: { revokedAt: string | null; expiresAt: string | null }, now = new Date()): TokenState {
  if (token.revokedAt) return 'revoked'
  if (token.expiresAt && new Date(token.expiresAt) <= now) return 'expired'
  return 'active'
}

/**
 * `expiresAt` for tokens.create from a date field (`2027-01-31`): the last second of that day in
 * the browser's time zone, as ISO 8601; undefined for an empty field (no expiry).
 */
export function expiryFromDate(date: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim())
  if (!m) return undefined
  const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59)
  return Number.isNaN(end.getTime()) ? undefined : end.toISOString()
}

export const SCOPE_HINTS: Record<TokenScope, string> = {
  read: 'read — see tests, runs and results',
  run: 'run — also push tests and start or cancel runs (CI)',
  admin: 'admin — also manage members, tokens and settings',
}
