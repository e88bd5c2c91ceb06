// The runner's configuration, parsed once from the environment. Nothing else reads process.env.
import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { locationIdSchema, parseLocations, type LocationConfig } from '@stampede/shared'

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

const schema = z.object({
  DATABASE_URL: z.string({ error: 'DATABASE_URL is required: the runner records runs in Postgres' }).min(1),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  S3_ENDPOINT: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z.string().default('stampede'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: bool.default(true),
  LOCATIONS: z.string().optional(),
  WORKER_LOCATION: locationIdSchema.optional(),
  ENABLE_LOCATION_FILTERING: bool.default(false),
  K6_MAX_CONCURRENCY: z.coerce.number().int().min(1, 'K6_MAX_CONCURRENCY must be at least 1').default(3),
  K6_BIN_PATH: z.string().optional(),
  K6_STOP_GRACE_SECONDS: z.coerce.number().positive().default(10),
  RUNNER_WORK_DIR: z.string().default(path.join(os.tmpdir(), 'stampede-runs')),
  RUNNER_ORCHESTRATION: bool.default(true),
})

export interface RunnerConfig {
  databaseUrl: string
  temporal: { address: string; namespace: string }
  s3: { endpoint?: string; region: string; bucket: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean }
  locations: LocationConfig[]
  /** The location queues this runner polls. */
  servedLocations: string[]
  maxConcurrency: number
  k6BinPath?: string
  stopGraceMs: number
  workDir: string
  /** Also run workflows and the persistence activities (the orchestration queue). */
  orchestration: boolean
  heartbeatIntervalMs: number
}

export function loadRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  const parsed = schema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new Error(`Invalid runner configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  const locations = parseLocations(e.LOCATIONS)
  let servedLocations = locations.map((l) => l.id)
  if (e.ENABLE_LOCATION_FILTERING) {
    if (!e.WORKER_LOCATION) throw new Error('ENABLE_LOCATION_FILTERING=true needs WORKER_LOCATION (e.g. WORKER_LOCATION=eu-central)')
    if (!servedLocations.includes(e.WORKER_LOCATION)) {
      throw new Error(`WORKER_LOCATION "${e.WORKER_LOCATION}" is not a configured location (${servedLocations.join(', ')}); add it to LOCATIONS`)
    }
    servedLocations = [e.WORKER_LOCATION]
  }
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
    locations,
    servedLocations,
    maxConcurrency: e.K6_MAX_CONCURRENCY,
    ...(e.K6_BIN_PATH ? { k6BinPath: e.K6_BIN_PATH } : {}),
    stopGraceMs: e.K6_STOP_GRACE_SECONDS * 1000,
    workDir: e.RUNNER_WORK_DIR,
    orchestration: e.RUNNER_ORCHESTRATION,
    heartbeatIntervalMs: 50,
  }
}
