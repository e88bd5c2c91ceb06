import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests create databases on the shared Postgres and start the real k6 in its sandbox.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
