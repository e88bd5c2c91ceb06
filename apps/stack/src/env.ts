// The stack's settings, read once from the environment. Outside tests, nothing else in apps/stack
// reads process.env. An external service's setting (TEMPORAL_ADDRESS, DATABASE_URL, S3_ENDPOINT,
// SECRETS_KEY) counts as absent when it is unset or empty: the stack then provides its own.

/** An environment as loadStackEnv takes it (process.env, or a test's own). */
export type Env = Record<string, string | undefined>

export interface StackEnv {
  /** The whole environment: passed on to the API, the runner and the web app, under the stack's own settings. */
  env: Env
  /** STAMPEDE_DATA_DIR: where the embedded services keep their data (default: .data/ in the repository). */
  dataDir?: string
  /** TEMPORAL_ADDRESS: an external Temporal; without it the stack starts Temporal's dev server. */
  temporalAddress?: string
  /** TEMPORAL_DEV_PORT / TEMPORAL_UI_PORT: the dev server's frontend and UI ports. */
  temporalDevPort: number
  temporalUiPort: number
  /** DATABASE_URL: an external PostgreSQL; without it the stack starts an embedded one. */
  databaseUrl?: string
  /** EMBEDDED_POSTGRES_PORT: the embedded PostgreSQL's port. */
  embeddedPostgresPort: number
  /** S3_ENDPOINT: an external S3; without it the stack starts an embedded S3-compatible server. */
  s3Endpoint?: string
  /** EMBEDDED_S3_PORT / S3_BUCKET: the embedded S3's port and bucket. */
  embeddedS3Port: number
  s3Bucket: string
  /** SECRETS_KEY: without it the stack generates one into the data directory. */
  secretsKey?: string
  /** K6_MAX_CONCURRENCY as given (devConcurrency picks the default). */
  k6MaxConcurrency?: string
  /** WEB_PORT: the web app's port. */
  webPort: string
}

/** The process's environment. */
export const processEnv = (): NodeJS.ProcessEnv => process.env

export function loadStackEnv(env: Env = processEnv()): StackEnv {
  return {
    env,
    dataDir: env.STAMPEDE_DATA_DIR,
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalDevPort: Number(env.TEMPORAL_DEV_PORT ?? 7233),
    temporalUiPort: Number(env.TEMPORAL_UI_PORT ?? 8233),
    databaseUrl: env.DATABASE_URL || undefined,
    embeddedPostgresPort: Number(env.EMBEDDED_POSTGRES_PORT ?? 5433),
    s3Endpoint: env.S3_ENDPOINT || undefined,
    embeddedS3Port: Number(env.EMBEDDED_S3_PORT ?? 9000),
    s3Bucket: env.S3_BUCKET ?? 'stampede',
    secretsKey: env.SECRETS_KEY || undefined,
    k6MaxConcurrency: env.K6_MAX_CONCURRENCY,
    webPort: env.WEB_PORT ?? '3000',
  }
}
