// The session cookie: HTTP-only, SameSite=Strict, Secure when the API is served over HTTPS.
export const SESSION_COOKIE = 'stampede_session'

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim())
  }
  return undefined
}

export function sessionCookie(value: string, opts: { maxAgeSeconds: number; secure: boolean }): string {
  return [
    `${SESSION_COOKIE}=${encodeURIComponent(value)}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${opts.maxAgeSeconds}`,
    ...(opts.secure ? ['Secure'] : []),
  ].join('; ')
}

export const clearedSessionCookie = (secure: boolean) => sessionCookie('', { maxAgeSeconds: 0, secure })
