// Prisma CLI configuration. Stampede's own scripts use the CLI only for `prisma generate`;
// migrations are applied by packages/db/src/migrate.ts (see README, "Database"). The URL is
// read leniently so that `generate`, which needs none, works without DATABASE_URL, while
// `prisma migrate status|deploy` on a connected machine use the same database as Stampede.
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
})
