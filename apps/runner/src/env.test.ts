import { describe, expect, it } from 'vitest'
import { loadRunnerConfig } from './env.ts'

const base = { DATABASE_URL: 'postgresql://db/x' }

describe('runner configuration', () => {
  it('polls every configured location unless filtering is on', () => {
    expect(loadRunnerConfig(base).servedLocations).toEqual(['us-east', 'eu-central', 'asia-pacific'])
    expect(loadRunnerConfig({ ...base, ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: 'eu-central' }).servedLocations).toEqual(['eu-central'])
    expect(loadRunnerConfig(base).maxConcurrency).toBe(3)
  })

  it('names every bad variable and how to fix it', () => {
    expect(() => loadRunnerConfig({ K6_MAX_CONCURRENCY: '0' })).toThrow(/DATABASE_URL: is required[\s\S]*K6_MAX_CONCURRENCY: must be at least 1/)
    expect(() => loadRunnerConfig({ ...base, ENABLE_LOCATION_FILTERING: 'true' })).toThrow('needs WORKER_LOCATION')
    expect(() => loadRunnerConfig({ ...base, ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: 'mars' })).toThrow('WORKER_LOCATION "mars" is not a configured location')
    expect(() => loadRunnerConfig({ ...base, LOCATIONS: 'us-east,us-east' })).toThrow('names "us-east" twice')
    expect(() => loadRunnerConfig({ ...base, ENABLE_LOCATION_FILTERING: 'maybe' })).toThrow('ENABLE_LOCATION_FILTERING: must be true or false')
  })
})
