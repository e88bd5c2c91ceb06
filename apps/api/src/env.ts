// The API's configuration, parsed once from the environment. Nothing else reads process.env.
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { envBoolean, parseEnv, platformConfig, platformEnvSchema, type PlatformConfig } from '@stampede/shared/platform-config'
import { DEFAULT_FILE_CAPS, type FileCaps } from '@stampede/shared/files'
import { MAX_FILE_REFS } from '@stampede/shared'

const MB = 1024 * 1024

const schema = platformEnvSchema.extend({
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  API_PUBLIC_URL: z.url().optional(),
  WEB_ORIGIN: z.string().default('http://127.0.0.1:3000,http://localhost:3000'),
  ARTIFACT_SIGNING_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  ARTIFACT_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(86400).default(300),
  K6_BIN_PATH: z.string().min(1).optional(),
  /** Script validation (k6 inspect): k6 processes at once, seconds a call may wait for one, calls per minute per caller. */
  VALIDATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  VALIDATION_QUEUE_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  VALIDATION_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(60),
  /**
   * Behind a reverse proxy: `true` trusts X-Forwarded-For from any hop, or a comma-separated list
   * of the proxies' addresses/CIDRs. Sign-in throttling and the audit log key on the client's address.
   */
  TRUST_PROXY: z.string().default('false'),
  /** How often the console relay reads a watched run whose console has not started (queued, waiting for a runner), in ms. */
  CONSOLE_QUEUED_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /**
   * Memory for runs.list's first pages, kept while their project's runs are unchanged (MB of
   * estimated heap); 0 keeps none and reads every page from the database.
   */
  RUN_LIST_CACHE_MB: z.coerce.number().min(0).max(1024).default(8),
  /** Requests per minute each API token may make. */
  API_TOKEN_RATE_LIMIT: z.coerce.number().int().min(1).default(600),
  /** The least time between two firings of a job's schedule; jobs.create/update refuse a cron firing more often. */
  JOB_MIN_INTERVAL_SECONDS: z.coerce.number().int().min(1, 'must be at least 1 (second)').default(60),
  /** Largest request body in bytes (scripts are capped at 500 KB; JSON escaping needs room). */
  API_BODY_LIMIT: z.coerce.number().int().min(1024).default(2 * 1024 * 1024),
  /** A test's files: the largest file, all files together (an archive too), and how many. */
  FILES_MAX_FILE_MB: z.coerce.number().positive().max(1024).default(DEFAULT_FILE_CAPS.maxFileBytes / MB),
  FILES_MAX_TOTAL_MB: z.coerce.number().positive().max(4096).default(DEFAULT_FILE_CAPS.maxTotalBytes / MB),
  FILES_MAX_COUNT: z.coerce.number().int().min(1).max(MAX_FILE_REFS).default(DEFAULT_FILE_CAPS.maxFiles),
  /** Secure on the session cookie; defaults to on when API_PUBLIC_URL is https. */
  SESSION_COOKIE_SECURE: envBoolean.optional(),
  /** The first-admin bootstrap token to accept (for automation); without it one is generated and printed. */
  BOOTSTRAP_TOKEN: z.string().min(20, 'must be at least 20 characters').optional(),
  /**
   * How far V8 lets the old generation grow past what survived its last full collection before
   * the next one, in percent (V8's --heap-growing-percent); 0 leaves V8's setting as it is. See ApiConfig.
   */
  API_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(30),
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
  /** How often the console relay reads heartbeats of a watched run. */
  consolePollMs: number
  /** How often the console relay reads a watched run that is still queued (its console activity not started). */
  consoleQueuedPollMs: number
  /** RUN_LIST_CACHE_MB in bytes. */
  runListCacheBytes: number
  tokenRateLimitPerMinute: number
  /** Fastify's trustProxy: whom to believe about the client's address. */
  trustProxy: boolean | string[]
  validation: { concurrency: number; maxWaitMs: number; perCallerPerMinute: number }
  jobMinIntervalSeconds: number
  bodyLimitBytes: number
  /** Caps on a test's files (FILES_MAX_FILE_MB, FILES_MAX_TOTAL_MB, FILES_MAX_COUNT); the upload route takes up to maxTotalBytes. */
  files: FileCaps
  secureCookies: boolean
  bootstrapToken?: string
  /**
   * V8's old-generation growth between full collections, in percent (0: V8's setting as it is; V8's own heuristic grows it by up to 300 %).
   * Under load a list page's rows and DTOs live through a few young collections and are promoted,
   * so the old generation fills with garbage; with V8's own growth it reached about 240 MB over a
   * 50 MB live heap before a full collection, and V8 keeps the pages it frees pooled (resident)
   * until it is short of memory: the API's RSS stayed about 220 MB above its start after 5,000
   * runs.list(limit 200) calls (issue 17). At 30 % the peak, and so the pool, is a fraction of that.
   */
  heapGrowingPercent: number
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
    consoleQueuedPollMs: e.CONSOLE_QUEUED_POLL_MS,
    runListCacheBytes: Math.round(e.RUN_LIST_CACHE_MB * MB),
    ...(e.K6_BIN_PATH ? { k6BinPath: e.K6_BIN_PATH } : {}),
    tokenRateLimitPerMinute: e.API_TOKEN_RATE_LIMIT,
    trustProxy: ['true', '1', 'yes'].includes(e.TRUST_PROXY) ? true : ['false', '0', 'no', ''].includes(e.TRUST_PROXY) ? false : e.TRUST_PROXY.split(',').map((a) => a.trim()).filter(Boolean),
    validation: { concurrency: e.VALIDATION_CONCURRENCY, maxWaitMs: e.VALIDATION_QUEUE_SECONDS * 1000, perCallerPerMinute: e.VALIDATION_RATE_LIMIT },
    jobMinIntervalSeconds: e.JOB_MIN_INTERVAL_SECONDS,
    bodyLimitBytes: e.API_BODY_LIMIT,
    files: { maxFileBytes: Math.round(e.FILES_MAX_FILE_MB * MB), maxTotalBytes: Math.round(e.FILES_MAX_TOTAL_MB * MB), maxFiles: e.FILES_MAX_COUNT },
    secureCookies: e.SESSION_COOKIE_SECURE ?? (e.API_PUBLIC_URL?.startsWith('https:') ?? false),
    ...(e.BOOTSTRAP_TOKEN ? { bootstrapToken: e.BOOTSTRAP_TOKEN } : {}),
    heapGrowingPercent: e.API_HEAP_GROWING_PERCENT,
  }
}
