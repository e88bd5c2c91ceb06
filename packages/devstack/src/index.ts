// Embedded services for `npm run dev` and integration tests.
export { startTemporalDevServer } from './temporal.ts'
export type { TemporalDevServer, TemporalDevServerOptions } from './temporal.ts'
export { startEmbeddedS3 } from './s3.ts'
export type { EmbeddedS3 } from './s3.ts'
export { startEmbeddedPostgres } from './postgres.ts'
export type { EmbeddedPostgres } from './postgres.ts'
export { freePort } from './ports.ts'
