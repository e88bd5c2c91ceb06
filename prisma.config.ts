// Prisma CLI configuration. Only `prisma generate` is used by the project's scripts; see
// packages/db/src/migrate.ts for why migrations are applied by Stampede itself.
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
})
