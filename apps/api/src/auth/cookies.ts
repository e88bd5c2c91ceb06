// The session cookie: HTTP-only, SameSite=Strict, Path=/, Secure when the API is served over HTTPS.
// Parsing the Cookie header and writing Set-Cookie are left to the `cookie` package (jshttp):
// - reading: the first cookie of a name wins (as browsers send the most specific first), the value
//   is trimmed and percent-decoded (quotes around it are kept), and a value that does not decode is returned as it came (so a
//   malformed session cookie is an unknown session, never an exception);
// - writing: the value is percent-encoded; the attributes come out as
//   `Max-Age; Path; HttpOnly; [Secure;] SameSite` (their order carries no meaning).
import { parseCookie, stringifySetCookie } from 'cookie'

export const SESSION_COOKIE = 'stampede_session'

/** The value of cookie `name` in a Cookie header, or undefined when the header or the cookie is absent. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  const cookies = parseCookie(header)
  return Object.hasOwn(cookies, name) ? cookies[name] : undefined
}

export function sessionCookie(value: string, opts: { maxAgeSeconds: number; secure: boolean }): string {
  return stringifySetCookie({ name: SESSION_COOKIE, value, path: '/', httpOnly: true, sameSite: 'strict', maxAge: opts.maxAgeSeconds, secure: opts.secure })
}

export const clearedSessionCookie = (secure: boolean) => sessionCookie('', { maxAgeSeconds: 0, secure })
