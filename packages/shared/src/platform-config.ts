// Settings every server-side part of Stampede shares (API, runner): where Postgres, Temporal
// and S3 are, and which locations exist. Each app's env.ts extends this schema with its own.
import { z } from 'zod'
import { parseLocations, type LocationConfig } from './locations.ts'
import { DEFAULT_DURABILITY, type Durability } from './temporal.ts'

/** Environment booleans: true/1/yes or false/0/no (empty counts as false). */
export const envBoolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

export const platformEnvSchema = z.object({
  DATABASE_URL: z.string({ error: 'is required: a Postgres URL such as postgresql://user:pass@host:5432/stampede' }).min(1),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  /** TLS to Temporal (Temporal Cloud, a secured cluster): on by itself, or implied by a client certificate or CA. */
  TEMPORAL_TLS: envBoolean.optional(),
  /** mTLS client certificate and key (PEM files), a CA bundle for the server (PEM file), and the server name to verify. */
  TEMPORAL_TLS_CERT: z.string().optional(),
  TEMPORAL_TLS_KEY: z.string().optional(),
  TEMPORAL_TLS_CA: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  /** An API key (Temporal Cloud); implies TLS. */
  TEMPORAL_API_KEY: z.string().optional(),
  S3_ENDPOINT: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z.string().default('stampede'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: envBoolean.default(true),
  LOCATIONS: z.string().optional(),
  /**
   * Single-machine (embedded) mode: k6 may reach loopback addresses so local demos work. Off by
   * default: runners refuse loopback, private, link-local and cloud-metadata targets.
   */
  ALLOW_LOOPBACK_TARGETS: envBoolean.default(false),
  /** Caps every run stays under (projects may set lower ones): checked before a run starts and held while it runs. */
  MAX_VUS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  MAX_DURATION_SECONDS: z.coerce.number().int().min(1).max(7 * 86400).default(3600),
  /** Every k6 process runs in the bubblewrap sandbox; `off` is the operator's explicit, logged opt-out. */
  K6_SANDBOX: z.enum(['bubblewrap', 'off'], { error: 'must be bubblewrap (the default) or off (k6 unsandboxed: only where every script author is trusted)' }).default('bubblewrap'),
  /** Limits of one k6 process (see README, "The k6 sandbox"). */
  K6_RUN_MEMORY_MB: z.coerce.number().int().min(64).max(1_048_576).default(4096),
  K6_VALIDATION_MEMORY_MB: z.coerce.number().int().min(64).max(1_048_576).default(512),
  K6_VALIDATION_CPU_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  K6_VALIDATION_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(15),
  K6_MAX_THREADS: z.coerce.number().int().min(16).max(100_000).default(256),
  K6_MAX_FILE_MB: z.coerce.number().int().min(1).max(1_048_576).default(1024),
  K6_MAX_LOG_MB: z.coerce.number().int().min(1).max(1_048_576).default(100),
  /** Default run timeout; scheduled runs always use it. */
  RUN_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(86400).default(3600),
  /** How long a finished run's spooled artifacts are retried into S3 while it is down. */
  ARTIFACT_RETRY_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).default(DEFAULT_DURABILITY.artifactRetrySeconds / 60),
  /** How long a run whose runner stopped answering waits for that runner to come back before it ends `error`. */
  RUNNER_RETURN_SECONDS: z.coerce.number().int().min(5).max(86400).default(DEFAULT_DURABILITY.runnerReturnSeconds),
  /** Where people open the web UI: links in webhook bodies and the first-admin link. */
  WEB_PUBLIC_URL: z.url().optional(),
  /** Key for test secrets at rest (AES-256-GCM): 32 bytes as 64 hex characters or base64. */
  SECRETS_KEY: z
    .string()
    .regex(/^\s*(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)\s*$/, 'must be 32 bytes as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)')
    .optional(),
})
export type PlatformEnv = z.infer<typeof platformEnvSchema>

/** Limits of one k6 process: what @stampede/sandbox enforces. */
export interface K6ProcessLimits {
  memoryBytes: number
  cpuSeconds?: number
  threads: number
  fileBytes: number
}

export interface SandboxConfig {
  mode: 'bubblewrap' | 'off'
  run: K6ProcessLimits
  validation: K6ProcessLimits & { cpuSeconds: number }
  /** Wall-clock time `k6 inspect` may take. */
  validationTimeoutMs: number
  /** The largest console log a run may write (k6's stdout and stderr). */
  maxLogBytes: number
}

/** The environment variable behind each limit, named in the message when one is hit. */
export const LIMIT_SETTINGS = {
  run: { memory: 'K6_RUN_MEMORY_MB', threads: 'K6_MAX_THREADS', fileSize: 'K6_MAX_FILE_MB' },
  validation: { memory: 'K6_VALIDATION_MEMORY_MB', cpu: 'K6_VALIDATION_CPU_SECONDS', threads: 'K6_MAX_THREADS', fileSize: 'K6_MAX_FILE_MB' },
  log: 'K6_MAX_LOG_MB',
  validationTimeout: 'K6_VALIDATION_TIMEOUT_SECONDS',
} as const

/** How to reach Temporal: see temporal-connection.ts for the options this becomes. */
export interface TemporalSettings {
  address: string
  namespace: string
  /** TLS, with the files of an mTLS client certificate, a CA bundle and the server name when given. */
  tls?: { certFile?: string; keyFile?: string; caFile?: string; serverName?: string }
  apiKey?: string
}

export interface PlatformConfig {
  databaseUrl: string
  temporal: TemporalSettings
  s3: { endpoint?: string; region: string; bucket: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean }
  locations: LocationConfig[]
  /** ALLOW_LOOPBACK_TARGETS: k6 may reach 127.0.0.0/8 and ::1 (single-machine mode). */
  allowLoopbackTargets: boolean
  /** Caps a script must stay under before it runs and while it runs (projects may set lower ones). */
  scriptLimits: { maxVUs: number; maxDurationSeconds: number }
  sandbox: SandboxConfig
  defaultRunTimeoutSeconds: number
  /** How runs wait out storage and runner faults (ARTIFACT_RETRY_MINUTES, RUNNER_RETURN_SECONDS). */
  durability: Durability
  /** Base URL of the web UI (no trailing slash). */
  webPublicUrl?: string
  /** SECRETS_KEY as given (parse with @stampede/db/secrets); without it secrets cannot be stored or used. */
  secretsKey?: string
}

const MB = 1024 * 1024

export function platformConfig(e: PlatformEnv): PlatformConfig {
  return {
    databaseUrl: e.DATABASE_URL,
    temporal: temporalSettings(e),
    s3: {
      ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
      region: e.S3_REGION,
      bucket: e.S3_BUCKET,
      ...(e.S3_ACCESS_KEY_ID ? { accessKeyId: e.S3_ACCESS_KEY_ID } : {}),
      ...(e.S3_SECRET_ACCESS_KEY ? { secretAccessKey: e.S3_SECRET_ACCESS_KEY } : {}),
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
    },
    locations: parseLocations(e.LOCATIONS),
    allowLoopbackTargets: e.ALLOW_LOOPBACK_TARGETS,
    scriptLimits: { maxVUs: e.MAX_VUS, maxDurationSeconds: e.MAX_DURATION_SECONDS },
    sandbox: {
      mode: e.K6_SANDBOX,
      run: { memoryBytes: e.K6_RUN_MEMORY_MB * MB, threads: e.K6_MAX_THREADS, fileBytes: e.K6_MAX_FILE_MB * MB },
      validation: { memoryBytes: e.K6_VALIDATION_MEMORY_MB * MB, cpuSeconds: e.K6_VALIDATION_CPU_SECONDS, threads: e.K6_MAX_THREADS, fileBytes: e.K6_MAX_FILE_MB * MB },
      validationTimeoutMs: e.K6_VALIDATION_TIMEOUT_SECONDS * 1000,
      maxLogBytes: e.K6_MAX_LOG_MB * MB,
    },
    defaultRunTimeoutSeconds: e.RUN_TIMEOUT_SECONDS,
    durability: { artifactRetrySeconds: e.ARTIFACT_RETRY_MINUTES * 60, runnerReturnSeconds: e.RUNNER_RETURN_SECONDS },
    ...(e.WEB_PUBLIC_URL ? { webPublicUrl: e.WEB_PUBLIC_URL.replace(/\/$/, '') } : {}),
    ...(e.SECRETS_KEY ? { secretsKey: e.SECRETS_KEY } : {}),
  }
}

function temporalSettings(e: PlatformEnv): TemporalSettings {
  if ((e.TEMPORAL_TLS_CERT === undefined) !== (e.TEMPORAL_TLS_KEY === undefined)) {
    throw new Error('Invalid Temporal configuration: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (the client certificate and its key, PEM files)')
  }
  const files = {
    ...(e.TEMPORAL_TLS_CERT ? { certFile: e.TEMPORAL_TLS_CERT } : {}),
    ...(e.TEMPORAL_TLS_KEY ? { keyFile: e.TEMPORAL_TLS_KEY } : {}),
    ...(e.TEMPORAL_TLS_CA ? { caFile: e.TEMPORAL_TLS_CA } : {}),
    ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
  }
  const tls = e.TEMPORAL_TLS ?? (Object.keys(files).length > 0 || e.TEMPORAL_API_KEY !== undefined)
  if (!tls && Object.keys(files).length > 0) throw new Error('Invalid Temporal configuration: TEMPORAL_TLS=false but TLS files are set; remove them or turn TLS on')
  return {
    address: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    ...(tls ? { tls: files } : {}),
    ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
  }
}

/** Parses `env` with `schema`, or throws one message naming every bad variable. */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, what: string): z.infer<T> {
  const parsed = schema.safeParse(env)
  if (parsed.success) return parsed.data
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
  throw new Error(`Invalid ${what} configuration:\n${lines.join('\n')}`)
}
