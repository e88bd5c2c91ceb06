// The runner's configuration, parsed once from the environment. Nothing else reads process.env.
import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { locationIdSchema } from '@stampede/shared'
import { envBoolean, parseEnv, platformConfig, platformEnvSchema, type PlatformConfig } from '@stampede/shared/platform-config'

const schema = platformEnvSchema.extend({
  // Only a runner that also orchestrates (RUNNER_ORCHESTRATION, the default) uses the database.
  DATABASE_URL: z.string().min(1).optional(),
  /** Where location runners reach the API to fetch a run's secrets (orchestration only). */
  API_PUBLIC_URL: z.url().optional(),
  WORKER_LOCATION: locationIdSchema.optional(),
  ENABLE_LOCATION_FILTERING: envBoolean.default(false),
  K6_MAX_CONCURRENCY: z.coerce.number().int().min(1, 'must be at least 1').default(3),
  K6_BIN_PATH: z.string().optional(),
  K6_STOP_GRACE_SECONDS: z.coerce.number().positive().default(10),
  RUNNER_WORK_DIR: z.string().default(path.join(os.tmpdir(), 'stampede-runs')),
  RUNNER_ORCHESTRATION: envBoolean.default(true),
  /** Normally generated once and kept in RUNNER_WORK_DIR; set it to pin a runner's identity. */
  RUNNER_ID: z.string().optional(),
  /** k6's HTML report (its web dashboard's export): costs k6 about a tenth of its throughput on CPU-bound scripts. */
  K6_HTML_REPORT: envBoolean.default(true),
  /** Tagged metric series per run in the metric frames; past it, one overflow series per metric. */
  METRICS_MAX_SERIES: z.coerce.number().int().min(1, 'must be at least 1').max(100_000, 'must be at most 100000').default(1000),
})

/** Settings a location-only runner has no use for: each is a credential it should not hold. */
export const ORCHESTRATION_ONLY = ['DATABASE_URL', 'SECRETS_KEY', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const

export interface RunnerConfig extends Omit<PlatformConfig, 'databaseUrl'> {
  /** The database (orchestration only: a location-only runner has none). */
  databaseUrl?: string
  /** API_PUBLIC_URL: put in the secrets grants runners redeem (orchestration only). */
  apiUrl?: string
  /** Orchestration-only settings given to a location-only runner: unused, and worth removing from its host. */
  unusedCredentials: string[]
  /** The location queues this runner polls. */
  servedLocations: string[]
  maxConcurrency: number
  k6BinPath?: string
  stopGraceMs: number
  workDir: string
  /** Also run workflows and the persistence activities (the orchestration queue). */
  orchestration: boolean
  heartbeatIntervalMs: number
  /** RUNNER_ID, when set (else the id kept in the work directory). */
  runnerId?: string
  /** K6_HTML_REPORT: runs write k6's HTML report. */
  htmlReport: boolean
  /** METRICS_MAX_SERIES: the cap on tagged metric series per run. */
  metricsMaxSeries: number
}

export function loadRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  const e = parseEnv(schema, env, 'runner')
  if (e.RUNNER_ORCHESTRATION && !e.DATABASE_URL) {
    throw new Error(
      'Invalid runner configuration:\n  DATABASE_URL: is required for a runner that also orchestrates (RUNNER_ORCHESTRATION=true, the default); a location runner (RUNNER_ORCHESTRATION=false) needs only Temporal',
    )
  }
  const { databaseUrl, ...platform } = platformConfig({ ...e, DATABASE_URL: e.DATABASE_URL ?? '' })
  let servedLocations = platform.locations.map((l) => l.id)
  if (e.ENABLE_LOCATION_FILTERING) {
    if (!e.WORKER_LOCATION) throw new Error('ENABLE_LOCATION_FILTERING=true needs WORKER_LOCATION (e.g. WORKER_LOCATION=eu-central)')
    if (!servedLocations.includes(e.WORKER_LOCATION)) {
      throw new Error(`WORKER_LOCATION "${e.WORKER_LOCATION}" is not a configured location (${servedLocations.join(', ')}); add it to LOCATIONS`)
    }
    servedLocations = [e.WORKER_LOCATION]
  }
  return {
    ...platform,
    servedLocations,
    maxConcurrency: e.K6_MAX_CONCURRENCY,
    ...(e.K6_BIN_PATH ? { k6BinPath: e.K6_BIN_PATH } : {}),
    stopGraceMs: e.K6_STOP_GRACE_SECONDS * 1000,
    workDir: e.RUNNER_WORK_DIR,
    orchestration: e.RUNNER_ORCHESTRATION,
    ...(e.RUNNER_ID ? { runnerId: e.RUNNER_ID } : {}),
    heartbeatIntervalMs: 50,
    htmlReport: e.K6_HTML_REPORT,
    metricsMaxSeries: e.METRICS_MAX_SERIES,
    ...(e.RUNNER_ORCHESTRATION ? { databaseUrl } : {}),
    ...(e.RUNNER_ORCHESTRATION && e.API_PUBLIC_URL ? { apiUrl: e.API_PUBLIC_URL.replace(/\/$/, '') } : {}),
    unusedCredentials: e.RUNNER_ORCHESTRATION ? [] : ORCHESTRATION_ONLY.filter((name) => env[name] !== undefined && env[name] !== ''),
  }
}
