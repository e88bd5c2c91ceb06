import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The integration tests run Stampede's k6 (built into the tool cache on first use).
    testTimeout: 120_000,
    hookTimeout: 15 * 60_000,
  },
})
