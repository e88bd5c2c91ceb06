import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests create databases and boot PGlite (~3-4 s on a cold start).
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
