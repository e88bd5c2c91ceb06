// Pure rules of the sign-in pages: where to return after signing in, how one-time links carry
// their token, and what a new password must be (the API's own schema, so both sides agree).
import type { ResolvedPathname } from '$app/types'
import { passwordSchema } from '@stampede/shared'

/**
 * A same-app path to return to after signing in, or '/'. Only paths (`/runs/…`) are accepted, so
 * a crafted `?next=https://evil.example` or `//evil.example` cannot send the reader elsewhere.
 */
export function safeReturnPath(next: string | null | undefined): ResolvedPathname {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/'
  if (/^\/(login|setup|invite)(?:[/?#]|$)/.test(next)) return '/'
  // Checked above: a path inside this app, as the reader's own address bar had it.
  return next as ResolvedPathname
}

/** The sign-in page (for `resolve`) that returns to `path` (with its query) afterwards. */
export function loginPath(path: string): '/login' | `/login?next=${string}` {
  const next = safeReturnPath(path)
  return next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`
}

/**
 * The token of a one-time link (`/setup#token=…`, `/invite#token=…`). It travels in the fragment
 * so it never reaches a server log or a Referer header.
 */
export function tokenFromHash(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token')?.trim()
  return token ? token : null
}

/** Why a new password (typed twice) is not acceptable, or null when it is. */
export function newPasswordProblem(password: string, confirmation: string): string | null {
  const parsed = passwordSchema.safeParse(password)
  if (!parsed.success) return `The password ${parsed.error.issues[0]?.message ?? 'is not acceptable'}.`
  if (password !== confirmation) return 'The two passwords differ.'
  return null
}
