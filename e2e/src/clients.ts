// API clients as each kind of caller: an API token (SDK/CLI/CI), a signed-in browser session
// (cookie + CSRF token, as the web UI), or nobody.
import { fileURLToPath } from 'node:url'
import { createTRPCClient, httpLink } from '@trpc/client'
import type { AppRouter } from '@stampede/api'

export type Api = ReturnType<typeof createTRPCClient<AppRouter>>

export const tokenClient = (apiUrl: string, token: string): Api =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: `${apiUrl}/trpc`, headers: () => ({ authorization: `Bearer ${token}` }) })] })

export const anonymousClient = (apiUrl: string): Api => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${apiUrl}/trpc` })] })

/** A browser-like session: keeps the session cookie and sends the CSRF token on mutations. */
export interface SessionClient {
  api: Api
  /** The session cookie (`stampede_session=...`), once signed in. */
  cookie(): string | undefined
  csrf(): string | undefined
  /** Overrides what is sent (to exercise CSRF and origin checks). */
  sendCsrf: boolean
  origin: string | undefined
}

export function sessionClient(apiUrl: string, opts: { origin?: string } = {}): SessionClient {
  let cookie: string | undefined
  let csrf: string | undefined
  const session: SessionClient = {
    sendCsrf: true,
    origin: opts.origin,
    cookie: () => cookie,
    csrf: () => csrf,
    api: createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: `${apiUrl}/trpc`,
          headers: () => ({
            ...(cookie ? { cookie } : {}),
            ...(csrf && session.sendCsrf ? { 'x-stampede-csrf': csrf } : {}),
            ...(session.origin ? { origin: session.origin } : {}),
          }),
          fetch: async (url, init) => {
            const res = await fetch(url, init as RequestInit)
            const set = res.headers.get('set-cookie')
            if (set) {
              const value = /^stampede_session=([^;]*)/.exec(set)?.[1]
              cookie = value ? `stampede_session=${value}` : undefined
            }
            const body: unknown = await res.clone().json().catch(() => null)
            const token = findCsrf(body)
            if (token) csrf = token
            return res
          },
        }),
      ],
    }),
  }
  return session
}

function findCsrf(body: unknown): string | undefined {
  const data = (body as { result?: { data?: { csrfToken?: unknown } } } | null)?.result?.data
  return typeof data?.csrfToken === 'string' ? data.csrfToken : undefined
}

/** The `stampede` CLI's entry point, as `npx stampede` runs it. */
export const CLI_BIN = fileURLToPath(new URL('../../packages/cli/bin/stampede.js', import.meta.url))

/** The first admin every stack bootstraps. */
export const ADMIN = { email: 'admin@stampede.test', name: 'Admin', password: 'correct horse battery staple' }

/**
 * Creates the first admin with the bootstrap token, then an admin-scope API token on the Default
 * project, whose run quota is raised (tests start runs back to back; 5 at a time is for people).
 */
export async function bootstrapAdmin(apiUrl: string, bootstrapToken: string, tokenName: string) {
  const admin = sessionClient(apiUrl)
  const me = await admin.api.auth.bootstrap.mutate({ token: bootstrapToken, ...ADMIN })
  const projectId = me.projects[0]!.id
  const { token } = await admin.api.tokens.create.mutate({ projectId, name: tokenName, scope: 'admin' })
  await admin.api.projects.update.mutate({ projectId, maxConcurrentRuns: 50 })
  return { admin, projectId, token, api: tokenClient(apiUrl, token), wsHeaders: { authorization: `Bearer ${token}` } }
}
