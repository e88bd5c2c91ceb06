// Generates the Prisma client from prisma/schema.prisma. Prisma 7's CLI insists on a native
// schema-engine binary even for `generate`, which never uses it; on machines that cannot
// download one we hand it an inert executable. Migrations do NOT go through this CLI (see
// src/migrate.ts), so the inert engine can never silently "apply" nothing.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' }
env.PRISMA_SCHEMA_ENGINE_BINARY ??= '/bin/false'
const result = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules/prisma/build/index.js'), 'generate', '--schema', path.join(root, 'prisma/schema.prisma')],
  { stdio: 'inherit', env, cwd: root },
)
process.exit(result.status ?? 1)
