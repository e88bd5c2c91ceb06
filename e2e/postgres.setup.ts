// Vitest setupFiles: in each test file's process, point createTestDatabase (and the processes
// the fault tests spawn, which inherit it) at the suite's embedded PostgreSQL, when
// postgres.global-setup.ts started one.
import { inject } from 'vitest'

const adminUrl = inject('e2ePostgresAdminUrl')
if (adminUrl) process.env.TEST_DATABASE_ADMIN_URL = adminUrl
