// The API's configuration, parsed once from the environment. Nothing else reads process.env.
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { envBoolean, parseEnv, platformConfig, platformEnvSchema, type PlatformConfig } from '@stampede/shared/platform-config'

const schema = platformEnvSchema.extend({
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  API_PUBLIC_URL: z.url().optional(),
  WEB_ORIGIN: z.string().default('http://127.0.0.1:3000,http://localhost:3000'),
  ARTIFACT_SIGNING_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  ARTIFACT_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(86400).default(300),
  K6_BIN_PATH: z.string().min(1).optional(),
  MAX_VUS: z.coerce.number().int().min(1).default(1000),
  MAX_DURATION_SECONDS: z.coerce.number().int().min(1).default(3600),
  /** Requests per minute each API token may make. */
  API_TOKEN_RATE_LIMIT: z.coerce.number().int().min(1).default(600),
  /** Largest request body in bytes (scripts are capped at 500 KB; JSON escaping needs room). */
  API_BODY_LIMIT: z.coerce.number().int().min(1024).default(2 * 1024 * 1024),
  /** Secure on the session cookie; defaults to on when API_PUBLIC_URL is https. */
  SESSION_COOKIE_SECURE: envBoolean.optional(),
  /** The first-admin bootstrap token to accept (for automation); without it one is generated and printed. */
  BOOTSTRAP_TOKEN: z.string().min(20, 'must be at least 20 characters').optional(),
})

export interface ApiConfig extends PlatformConfig {
  host: string
  port: number
  /** Base URL clients use to reach this API (artifact links); defaults to http://host:port. */
  publicUrl?: string
  webOrigins: string[]
  artifactSigningKey: string
  artifactUrlTtlSeconds: number
  /** The k6 binary for script checks (`k6 inspect`); resolved like the runner's when absent. */
  k6BinPath?: string
  /** Caps a script must stay under (from `k6 inspect --execution-requirements`) before it may run. */
  scriptLimits: { maxVUs: number; maxDurationSeconds: number }
  /** How often the console relay reads heartbeats of a watched run. */
  consolePollMs: number
  tokenRateLimitPerMinute: number
  bodyLimitBytes: number
  secureCookies: boolean
  bootstrapToken?: string
}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const e = parseEnv(schema, env, 'API')
  return {
    ...platformConfig(e),
    host: e.API_HOST,
    port: e.API_PORT,
    ...(e.API_PUBLIC_URL ? { publicUrl: e.API_PUBLIC_URL.replace(/\/$/, '') } : {}),
    webOrigins: e.WEB_ORIGIN.split(',').map((o) => o.trim()).filter(Boolean),
    // Without a configured key, links are signed with a per-process key: fine for one API
    // instance; several instances behind a load balancer need the same ARTIFACT_SIGNING_KEY.
    artifactSigningKey: e.ARTIFACT_SIGNING_KEY ?? randomBytes(32).toString('hex'),
    artifactUrlTtlSeconds: e.ARTIFACT_URL_TTL_SECONDS,
    consolePollMs: 50,
    ...(e.K6_BIN_PATH ? { k6BinPath: e.K6_BIN_PATH } : {}),
    scriptLimits: { maxVUs: e.MAX_VUS, maxDurationSeconds: e.MAX_DURATION_SECONDS },
    tokenRateLimitPerMinute: e.API_TOKEN_RATE_LIMIT,
    bodyLimitBytes: e.API_BODY_LIMIT,
    secureCookies: e.SESSION_COOKIE_SECURE ?? (e.API_PUBLIC_URL?.startsWith('https:') ?? false),
    ...(e.BOOTSTRAP_TOKEN ? { bootstrapToken: e.BOOTSTRAP_TOKEN } : {}),
  }
}
