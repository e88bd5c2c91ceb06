import { describe, expect, it } from 'vitest'
import { loadStackEnv } from './env.ts'

describe('loadStackEnv', () => {
  it('has the embedded defaults when nothing is set', () => {
    expect(loadStackEnv({})).toEqual({
      env: {},
      dataDir: undefined,
      temporalAddress: undefined,
      temporalDevPort: 7233,
      temporalUiPort: 8233,
      databaseUrl: undefined,
      embeddedPostgresPort: 5433,
      s3Endpoint: undefined,
      embeddedS3Port: 9000,
      s3Bucket: 'stampede',
      secretsKey: undefined,
      k6MaxConcurrency: undefined,
      webPort: '3000',
    })
  })

  it('takes what is set, and keeps the whole environment for the apps it starts', () => {
    const env = {
      STAMPEDE_DATA_DIR: '/data',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_DEV_PORT: '17233',
      TEMPORAL_UI_PORT: '18233',
      DATABASE_URL: 'postgres://db/stampede',
      EMBEDDED_POSTGRES_PORT: '15433',
      S3_ENDPOINT: 'http://s3:9000',
      EMBEDDED_S3_PORT: '19000',
      S3_BUCKET: 'runs',
      SECRETS_KEY: 'k',
      K6_MAX_CONCURRENCY: '5',
      WEB_PORT: '3001',
      OTHER: 'kept',
    }
    const loaded = loadStackEnv(env)
    expect(loaded).toMatchObject({
      dataDir: '/data',
      temporalAddress: 'temporal:7233',
      temporalDevPort: 17233,
      temporalUiPort: 18233,
      databaseUrl: 'postgres://db/stampede',
      embeddedPostgresPort: 15433,
      s3Endpoint: 'http://s3:9000',
      embeddedS3Port: 19000,
      s3Bucket: 'runs',
      secretsKey: 'k',
      k6MaxConcurrency: '5',
      webPort: '3001',
    })
    expect(loaded.env).toBe(env)
  })

  it('counts an empty external setting as absent, so the stack starts its own service', () => {
    const loaded = loadStackEnv({ TEMPORAL_ADDRESS: '', DATABASE_URL: '', S3_ENDPOINT: '', SECRETS_KEY: '' })
    expect([loaded.temporalAddress, loaded.databaseUrl, loaded.s3Endpoint, loaded.secretsKey]).toEqual([undefined, undefined, undefined, undefined])
  })
})
