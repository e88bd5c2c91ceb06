// The API's configuration, parsed once from the environment. Nothing else reads process.env.
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { parseLocations, type LocationConfig } from '@stampede/shared'

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no', '']).transform((v) => v === 'true' || v === '1' || v === 'yes')

const schema = z.object({
  DATABASE_URL: z.string({ error: 'DATABASE_URL is required (postgresql://user:pass@host:5432/db)' }).min(1),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  S3_ENDPOINT: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z.string().default('stampede'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: bool.default(true),
  LOCATIONS: z.string().optional(),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  API_PUBLIC_URL: z.string().url().optional(),
  WEB_ORIGIN: z.string().default('http://127.0.0.1:3000,http://localhost:3000'),
  RUN_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(86400).default(3600),
  ARTIFACT_SIGNING_KEY: z.string().min(16, 'ARTIFACT_SIGNING_KEY must be at least 16 characters').optional(),
  ARTIFACT_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(86400).default(300),
})

export interface ApiConfig {
  databaseUrl: string
  temporal: { address: string; namespace: string }
  s3: { endpoint?: string; region: string; bucket: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean }
  locations: LocationConfig[]
  host: string
  port: number
  /** Base URL clients use to reach this API (artifact links); defaults to http://host:port. */
  publicUrl?: string
  webOrigins: string[]
  defaultRunTimeoutSeconds: number
  artifactSigningKey: string
  artifactUrlTtlSeconds: number
  /** How often the console relay reads heartbeats of a watched run. */
  consolePollMs: number
}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const parsed = schema.safeParse(env)
  if (!parsed.success) {
    throw new Error(`Invalid API configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`)
  }
  const e = parsed.data
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
    host: e.API_HOST,
    port: e.API_PORT,
    ...(e.API_PUBLIC_URL ? { publicUrl: e.API_PUBLIC_URL.replace(/\/$/, '') } : {}),
    webOrigins: e.WEB_ORIGIN.split(',').map((o) => o.trim()).filter(Boolean),
    defaultRunTimeoutSeconds: e.RUN_TIMEOUT_SECONDS,
    // Without a configured key, links are signed with a per-process key: fine for one API
    // instance; several instances behind a load balancer need the same ARTIFACT_SIGNING_KEY.
    artifactSigningKey: e.ARTIFACT_SIGNING_KEY ?? randomBytes(32).toString('hex'),
    artifactUrlTtlSeconds: e.ARTIFACT_URL_TTL_SECONDS,
    consolePollMs: 50,
  }
}
