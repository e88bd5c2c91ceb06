import { defineConfig } from 'vitest/config'

// End-to-end tests start real services (Temporal, Postgres database, S3, k6): run files one at
// a time on this 2-core machine, with timeouts that allow a cold workflow bundle.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
})
