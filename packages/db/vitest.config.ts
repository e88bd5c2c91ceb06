import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests create and migrate databases.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
