// Random bearer secrets (session cookies, API tokens, one-time links) and how they are stored:
// only the SHA-256 of a secret reaches the database, so a leaked table grants nothing.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')
export const randomSecret = (bytes = 32) => randomBytes(bytes).toString('base64url')

/** API tokens look like `stp_<43 chars>`; the prefix makes them easy to spot in leaked text. */
export const TOKEN_PREFIX = 'stp_'
export function newApiToken(): { token: string; prefix: string; hash: string } {
  const token = `${TOKEN_PREFIX}${randomSecret()}`
  return { token, prefix: token.slice(0, 12), hash: sha256(token) }
}

/** The CSRF token of a session: derived from the cookie's secret, so it needs no storage. */
export const csrfTokenFor = (sessionToken: string) => createHmac('sha256', sessionToken).update('stampede-csrf').digest('base64url')

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
