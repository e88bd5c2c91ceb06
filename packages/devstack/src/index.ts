// Embedded services for `npm run dev` and integration tests.
import { isIP } from 'node:net'
import { PLATFORM_LOOPBACK_CIDR, PLATFORM_LOOPBACK_HOST } from '@stampede/shared/targets'
import { processEnv, type Env } from './env.ts'

export { startTemporalDevServer } from './temporal.ts'
export type { TemporalDevServer, TemporalDevServerOptions } from './temporal.ts'
export { startEmbeddedS3 } from './s3.ts'
export type { EmbeddedS3 } from './s3.ts'
export { ClusterVersionError, describeStart, startEmbeddedPostgres } from './postgres.ts'
export type { EmbeddedPostgres, EmbeddedPostgresOptions } from './postgres.ts'
export { freePort } from './ports.ts'

/**
 * The address the embedded services listen on: EMBEDDED_SERVICES_HOST, else the platform's
 * reserved loopback address (127.77.0.1, which k6 can never reach) on Linux, where all of
 * 127.0.0.0/8 answers on loopback, and 127.0.0.1 elsewhere (macOS configures only 127.0.0.1).
 */
export function embeddedServicesHost(env: Env = processEnv(), platform: NodeJS.Platform = process.platform): string {
  const value = env.EMBEDDED_SERVICES_HOST?.trim()
  if (value === undefined || value === '') return platform === 'linux' ? PLATFORM_LOOPBACK_HOST : '127.0.0.1'
  if (isIP(value) === 0) {
    throw new Error(
      `EMBEDDED_SERVICES_HOST: "${value}" is not an IP address; set an address in ${PLATFORM_LOOPBACK_CIDR} such as ${PLATFORM_LOOPBACK_HOST} (reserved for the platform, out of k6's reach), or unset it for the default`,
    )
  }
  return value
}
