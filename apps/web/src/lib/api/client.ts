// The one typed tRPC client. Types come from the API's router (type-only import, so no server
// code reaches the bundle); the wire is plain JSON because the API uses no transformer.
//
// The browser signs in with the API's HTTP-only session cookie, so every request is sent with
// credentials, and every change carries the CSRF token from the last auth.* answer. A 401 from
// a procedure that needs a session means the session is gone: the registered handler (the
// session store) takes the reader to the sign-in page.
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client'
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server'
import type { AppRouter } from '@stampede/sdk'
import { env } from '$env/dynamic/public'

export type RouterInputs = inferRouterInputs<AppRouter>
export type RouterOutputs = inferRouterOutputs<AppRouter>

const DEFAULT_API_URL = 'http://127.0.0.1:4000'

/** Procedures that answer 401 for a wrong password or link, not for an ended session. */
const SIGN_IN_PROCEDURES = new Set(['auth.login', 'auth.bootstrap', 'auth.acceptInvite'])

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost'])

/**
 * The API's base URL without a trailing slash, from PUBLIC_STAMPEDE_API_URL. On one machine the
 * page may be opened as localhost or 127.0.0.1: the API is then addressed by the same name, so
 * its SameSite session cookie is same-site with the page.
 */
export function apiBaseUrl(pageHost: string | undefined = globalThis.location?.hostname): string {
  const configured = (env.PUBLIC_STAMPEDE_API_URL?.trim() || DEFAULT_API_URL).replace(/\/+$/, '')
  const url = new URL(configured)
  if (pageHost && pageHost !== url.hostname && LOOPBACK_NAMES.has(pageHost) && LOOPBACK_NAMES.has(url.hostname)) {
    url.hostname = pageHost
    return url.toString().replace(/\/+$/, '')
  }
  return configured
}

/** The live console WebSocket of a run, resuming after `after` (the last seq received). */
export function consoleSocketUrl(runId: string, after: number, metricsAfter?: number): string {
  const url = new URL(`${apiBaseUrl()}/ws/runs/${encodeURIComponent(runId)}/console`)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.searchParams.set('after', String(after))
  if (metricsAfter !== undefined) url.searchParams.set('metrics', String(metricsAfter))
  return url.toString()
}

let csrfToken: string | null = null
let onSessionEnded: () => void = () => {}

/** The token the API expects as `x-stampede-csrf` on changes; from auth.me, login, bootstrap or acceptInvite. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token
}

/** The headers a change sent outside tRPC carries (the file upload route): the client's name and the CSRF token. */
export function changeHeaders(): Record<string, string> {
  return { 'x-stampede-client': 'web', ...(csrfToken ? { 'x-stampede-csrf': csrfToken } : {}) }
}

/** Tells the session store that a request needing a session was answered 401. */
export function reportSessionEnded(): void {
  onSessionEnded()
}

/** Called when a request that needs a session is answered 401 (never for a wrong password). */
export function handleSessionEnded(handler: () => void): void {
  onSessionEnded = handler
}

/** The procedure path of a tRPC URL (`…/trpc/auth.login?input=…` → `auth.login`). */
export function procedureOf(url: string): string {
  const path = new URL(url, 'http://x').pathname
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1))
}

export const api = createTRPCClient<AppRouter>({
  links: [
    httpLink({
      url: `${apiBaseUrl()}/trpc`,
      headers: ({ op }) => ({
        'x-stampede-client': 'web',
        ...(op.type === 'mutation' && csrfToken ? { 'x-stampede-csrf': csrfToken } : {}),
      }),
      fetch: async (url, init) => {
        const res = await fetch(url, { ...(init as RequestInit), credentials: 'include' })
        if (res.status === 401 && !SIGN_IN_PROCEDURES.has(procedureOf(String(url)))) onSessionEnded()
        return res
      },
    }),
  ],
})

/** The tRPC error code of a failed call (`UNAUTHORIZED`, `FORBIDDEN`, …), if the API answered. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined
}

/** Per-field problems of a rejected input (`allowlist.2` → message), when the API listed them. */
export function errorIssues(err: unknown): { path: string; message: string }[] {
  if (!(err instanceof TRPCClientError)) return []
  const issues = (err.data as { issues?: unknown } | undefined)?.issues
  return Array.isArray(issues) ? (issues as { path: string; message: string }[]) : []
}

/** A message a person can act on: the API's own message, or why the API could not be reached. */
export function describeError(err: unknown): string {
  if (err instanceof TRPCClientError) {
    // A fetch failure surfaces as a TRPCClientError without an API error shape.
    if (!err.data && err.cause instanceof TypeError) return `cannot reach the API at ${apiBaseUrl()} (${err.cause.message})`
    return err.message
  }
  return err instanceof Error ? err.message : String(err)
}
