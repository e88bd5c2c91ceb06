import { describe, expect, it } from 'vitest'
import { loadRunnerConfig } from './env.ts'

const base = { DATABASE_URL: 'postgresql://db/x' }

describe('runner configuration', () => {
  it('polls every configured location unless filtering is on', () => {
    expect(loadRunnerConfig(base).servedLocations).toEqual(['us-east', 'eu-central', 'asia-pacific'])
    expect(loadRunnerConfig({ ...base, ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: 'eu-central' }).servedLocations).toEqual(['eu-central'])
    expect(loadRunnerConfig(base).maxConcurrency).toBe(3)
  })

  it("writes k6's HTML report and caps metric series at 1000 unless told otherwise", () => {
    expect(loadRunnerConfig(base)).toMatchObject({ htmlReport: true, metricsMaxSeries: 1000 })
    expect(loadRunnerConfig({ ...base, K6_HTML_REPORT: 'false', METRICS_MAX_SERIES: '250' })).toMatchObject({ htmlReport: false, metricsMaxSeries: 250 })
    expect(() => loadRunnerConfig({ ...base, METRICS_MAX_SERIES: '0' })).toThrow(/METRICS_MAX_SERIES: must be at least 1/)
    expect(() => loadRunnerConfig({ ...base, K6_HTML_REPORT: 'sometimes' })).toThrow('K6_HTML_REPORT: must be true or false')
  })

  it('names every bad variable and how to fix it', () => {
    expect(() => loadRunnerConfig({ ...base, K6_MAX_CONCURRENCY: '0' })).toThrow(/K6_MAX_CONCURRENCY: must be at least 1/)
    expect(() => loadRunnerConfig({})).toThrow(/DATABASE_URL: is required for a runner that also orchestrates[\s\S]*RUNNER_ORCHESTRATION=false\) needs only Temporal/)
    expect(() => loadRunnerConfig({ ...base, TEMPORAL_TLS_CERT: '/c.pem' })).toThrow('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together')
    expect(() => loadRunnerConfig({ ...base, ENABLE_LOCATION_FILTERING: 'true' })).toThrow('needs WORKER_LOCATION')
    expect(() => loadRunnerConfig({ ...base, ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: 'mars' })).toThrow('WORKER_LOCATION "mars" is not a configured location')
    expect(() => loadRunnerConfig({ ...base, LOCATIONS: 'us-east,us-east' })).toThrow('names "us-east" twice')
    expect(() => loadRunnerConfig({ ...base, ENABLE_LOCATION_FILTERING: 'maybe' })).toThrow('ENABLE_LOCATION_FILTERING: must be true or false')
  })

  it('runs a location runner on Temporal settings alone, and names the credentials it should not hold', () => {
    const config = loadRunnerConfig({ RUNNER_ORCHESTRATION: 'false', ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: 'us-east' })
    expect(config.orchestration).toBe(false)
    expect(config.databaseUrl).toBeUndefined()
    expect(config.unusedCredentials).toEqual([])
    const holding = loadRunnerConfig({ RUNNER_ORCHESTRATION: 'false', DATABASE_URL: 'postgresql://db/x', SECRETS_KEY: 'a'.repeat(64), API_PUBLIC_URL: 'https://api.example' })
    expect(holding.databaseUrl).toBeUndefined()
    expect(holding.apiUrl).toBeUndefined()
    expect(holding.unusedCredentials).toEqual(['DATABASE_URL', 'SECRETS_KEY'])
    expect(loadRunnerConfig({ ...base, API_PUBLIC_URL: 'https://api.example/' }).apiUrl).toBe('https://api.example')
  })

  it('reaches Temporal over TLS with a client certificate or an API key when configured', () => {
    expect(loadRunnerConfig(base).temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default' })
    expect(loadRunnerConfig({ ...base, TEMPORAL_API_KEY: 'k' }).temporal).toMatchObject({ tls: {}, apiKey: 'k' })
    expect(loadRunnerConfig({ ...base, TEMPORAL_TLS_CERT: '/c.pem', TEMPORAL_TLS_KEY: '/k.pem', TEMPORAL_TLS_SERVER_NAME: 't.example' }).temporal.tls).toEqual({ certFile: '/c.pem', keyFile: '/k.pem', serverName: 't.example' })
    expect(loadRunnerConfig({ ...base, TEMPORAL_TLS: 'true' }).temporal.tls).toEqual({})
  })
})
