// Settings every server-side part of Stampede shares (API, runner): where Postgres, Temporal
// and S3 are, and which locations exist. Each app's env.ts extends this schema with its own.
import { z } from 'zod'
import { parseLocations, type LocationConfig } from './locations.ts'

/** Environment booleans: true/1/yes or false/0/no (empty counts as false). */
export const envBoolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

export const platformEnvSchema = z.object({
  DATABASE_URL: z.string({ error: 'is required: a Postgres URL such as postgresql://user:pass@host:5432/stampede' }).min(1),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
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
  /** Default run timeout; scheduled runs always use it. */
  RUN_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(86400).default(3600),
  /** Where people open the web UI: links in webhook bodies and the first-admin link. */
  WEB_PUBLIC_URL: z.url().optional(),
  /** Key for test secrets at rest (AES-256-GCM): 32 bytes as 64 hex characters or base64. */
  SECRETS_KEY: z
    .string()
    .regex(/^\s*(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)\s*$/, 'must be 32 bytes as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)')
    .optional(),
})
export type PlatformEnv = z.infer<typeof platformEnvSchema>

export interface PlatformConfig {
  databaseUrl: string
  temporal: { address: string; namespace: string }
  s3: { endpoint?: string; region: string; bucket: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean }
  locations: LocationConfig[]
  /** ALLOW_LOOPBACK_TARGETS: k6 may reach 127.0.0.0/8 and ::1 (single-machine mode). */
  allowLoopbackTargets: boolean
  defaultRunTimeoutSeconds: number
  /** Base URL of the web UI (no trailing slash). */
  webPublicUrl?: string
  /** SECRETS_KEY as given (parse with @stampede/db/secrets); without it secrets cannot be stored or used. */
  secretsKey?: string
}

export function platformConfig(e: PlatformEnv): PlatformConfig {
  return {
    databaseUrl: e.DATABASE_URL,
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE },
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
    defaultRunTimeoutSeconds: e.RUN_TIMEOUT_SECONDS,
    ...(e.WEB_PUBLIC_URL ? { webPublicUrl: e.WEB_PUBLIC_URL.replace(/\/$/, '') } : {}),
    ...(e.SECRETS_KEY ? { secretsKey: e.SECRETS_KEY } : {}),
  }
}

/** Parses `env` with `schema`, or throws one message naming every bad variable. */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, what: string): z.infer<T> {
  const parsed = schema.safeParse(env)
  if (parsed.success) return parsed.data
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
  throw new Error(`Invalid ${what} configuration:\n${lines.join('\n')}`)
}
