import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { MigrationError, migrationChecksum, readMigrations, scriptMatchesChecksum } from './migrate.ts'

describe('checksums (prisma-engines rules)', () => {
  it('is the zero-padded sha256 hex of the script', () => {
    // The value prisma-engines' own test pins for "hello".
    expect(migrationChecksum('hello')).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824')
  })

  it('matches a script whose line endings git changed', () => {
    const lf = 'CREATE TABLE "a" ();\nCREATE TABLE "b" ();\n'
    const crlf = lf.replaceAll('\n', '\r\n')
    expect(scriptMatchesChecksum(crlf, migrationChecksum(lf))).toBe(true)
    expect(scriptMatchesChecksum(lf, migrationChecksum(crlf))).toBe(true)
  })

  it('accepts the un-padded checksums old Prisma versions recorded', () => {
    // sha256('abc') has bytes below 0x10, so the old rendering is shorter than 64 characters.
    const script = 'abc'
    const old = [...Buffer.from(migrationChecksum(script), 'hex')].map((b) => b.toString(16)).join('')
    expect(old.length).toBeLessThan(64)
    expect(scriptMatchesChecksum(script, old)).toBe(true)
  })

  it('rejects any real edit', () => {
    expect(scriptMatchesChecksum('abc\n', migrationChecksum('abc'))).toBe(false)
    expect(scriptMatchesChecksum('abc', migrationChecksum('abcd'))).toBe(false)
  })
})

describe('readMigrations', () => {
  it('lists migration folders in name order and ignores files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stampede-migrations-'))
    for (const name of ['20260102000000_b', '20260101000000_a']) {
      await mkdir(path.join(dir, name))
      await writeFile(path.join(dir, name, 'migration.sql'), `-- ${name}\n`)
    }
    await writeFile(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n')
    const migrations = await readMigrations(dir)
    expect(migrations.map((m) => m.name)).toEqual(['20260101000000_a', '20260102000000_b'])
    expect(migrations[0]?.checksum).toBe(migrationChecksum('-- 20260101000000_a\n'))
  })

  it('refuses migrations written for another provider', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stampede-migrations-'))
    await writeFile(path.join(dir, 'migration_lock.toml'), 'provider = "mysql"\n')
    await expect(readMigrations(dir)).rejects.toMatchObject({ code: 'provider-mismatch' })
  })

  it('refuses a migration folder without migration.sql', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stampede-migrations-'))
    await mkdir(path.join(dir, '20260101000000_empty'))
    const err: unknown = await readMigrations(dir).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MigrationError)
    expect((err as MigrationError).message).toContain('20260101000000_empty has no readable migration.sql')
  })

  it('finds the repository migrations by default', async () => {
    const migrations = await readMigrations()
    expect(migrations.length).toBeGreaterThan(0)
    expect(migrations[0]?.name).toMatch(/^\d{14}_init$/)
  })
})
