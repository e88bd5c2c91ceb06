import { defineConfig } from 'vitest/config'

// End-to-end tests start real services (Temporal, Postgres database, S3, k6): run files one at
// a time on this 2-core machine, with timeouts that allow a cold workflow bundle.
//
// PostgreSQL: the suite starts one embedded PostgreSQL (the one `npm run dev` uses) in a
// temporary directory and stops it at the end (postgres.global-setup.ts); each test file
// creates and drops its own database on it. E2E_POSTGRES=machine uses the machine's PostgreSQL
// instead: TEST_DATABASE_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/test.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./postgres.global-setup.ts'],
    setupFiles: ['./postgres.setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
})
