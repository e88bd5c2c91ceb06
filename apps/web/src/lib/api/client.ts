// The one typed tRPC client. Types come from the API's router (type-only import, so no server
// code reaches the bundle); the wire is plain JSON because the API uses no transformer.
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client'
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server'
import type { AppRouter } from '@stampede/api'
import { env } from '$env/dynamic/public'

export type RouterInputs = inferRouterInputs<AppRouter>
export type RouterOutputs = inferRouterOutputs<AppRouter>

const DEFAULT_API_URL = 'http://127.0.0.1:4000'

/** The API's base URL without a trailing slash, from PUBLIC_STAMPEDE_API_URL. */
export function apiBaseUrl(): string {
  const configured = env.PUBLIC_STAMPEDE_API_URL?.trim()
  return (configured || DEFAULT_API_URL).replace(/\/+$/, '')
}

/** The live console WebSocket of a run, resuming after `after` (the last seq received). */
export function consoleSocketUrl(runId: string, after: number): string {
  const url = new URL(`${apiBaseUrl()}/ws/runs/${encodeURIComponent(runId)}/console`)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.searchParams.set('after', String(after))
  return url.toString()
}

export const api = createTRPCClient<AppRouter>({
  links: [
    httpLink({
      url: `${apiBaseUrl()}/trpc`,
      headers: { 'x-stampede-client': 'web' },
    }),
  ],
})

/** A message a person can act on: the API's own message, or why the API could not be reached. */
export function describeError(err: unknown): string {
  if (err instanceof TRPCClientError) {
    // A fetch failure surfaces as a TRPCClientError without an API error shape.
    if (!err.data && err.cause instanceof TypeError) return `cannot reach the API at ${apiBaseUrl()} (${err.cause.message})`
    return err.message
  }
  return err instanceof Error ? err.message : String(err)
}
