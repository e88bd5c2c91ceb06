// THE PROOF that prisma/migrations produces exactly the database prisma/schema.prisma describes.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultSchemaPath, diffDatabaseAgainstSchema } from '../src/schema-drift.ts'
import { createTestDatabase, type TestDatabase } from '../src/testing.ts'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.drop()
})

describe('migrated database vs schema.prisma', () => {
  it('has every table, column, type, nullability, default, enum, index and foreign key, and nothing else', async () => {
    expect(await diffDatabaseAgainstSchema(db.url)).toEqual({ missing: [], unexpected: [] })
  })

  it('reports the missing column when a field is added to the schema without a migration', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stampede-schema-'))
    const schemaPath = path.join(dir, 'schema.prisma')
    const schema = await readFile(defaultSchemaPath, 'utf8')
    const edited = schema.replace(/(model Run \{\n)/, '$1  priority Int @default(0)\n  notes String? @map("run_notes")\n')
    expect(edited).not.toBe(schema)
    await writeFile(schemaPath, edited)

    expect(await diffDatabaseAgainstSchema(db.url, { schemaPath })).toEqual({
      missing: [
        'column "runs"."priority" integer NOT NULL DEFAULT 0',
        'column "runs"."run_notes" text NULL',
      ],
      unexpected: [],
    })
  })

  it('reports index, enum, relation and type changes made in the schema only', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stampede-schema-'))
    const schemaPath = path.join(dir, 'schema.prisma')
    const schema = await readFile(defaultSchemaPath, 'utf8')
    const edited = schema
      .replace('  @@index([firingId])\n', '  @@index([firingId, createdAt])\n')
      .replace('  timed_out\n', '  timed_out\n  skipped\n')
      .replace('onDelete: SetNull)', 'onDelete: Cascade)')
      .replace('durationMs Int?', 'durationMs BigInt?')
    await writeFile(schemaPath, edited)

    const drift = await diffDatabaseAgainstSchema(db.url, { schemaPath })
    expect(drift.missing).toEqual([
      'column "runs"."duration_ms" bigint NULL',
      `enum "run_status" ('queued', 'running', 'passed', 'failed', 'error', 'cancelled', 'timed_out', 'skipped')`,
      'foreign key "runs_test_id_fkey" "runs" ("test_id") -> "tests" ("id") ON DELETE CASCADE ON UPDATE CASCADE',
      'index "runs_firing_id_created_at_idx" on "runs" ("firing_id", "created_at")',
    ])
    expect(drift.unexpected).toEqual([
      'column "runs"."duration_ms" integer NULL',
      `enum "run_status" ('queued', 'running', 'passed', 'failed', 'error', 'cancelled', 'timed_out')`,
      'foreign key "runs_test_id_fkey" "runs" ("test_id") -> "tests" ("id") ON DELETE SET NULL ON UPDATE CASCADE',
      'index "runs_firing_id_idx" on "runs" ("firing_id")',
    ])
  })
})
