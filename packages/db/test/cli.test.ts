// `npm run db:migrate` as an operator runs it: a real process, real exit codes and output.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../src/testing.ts'

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function runCli(env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv = { ...process.env, ...env }
  if (env.DATABASE_URL === undefined) delete childEnv.DATABASE_URL
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts'], { cwd: packageDir, env: childEnv }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr })
    })
  })
}

const databases: TestDatabase[] = []
afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()))
})

describe('db:migrate CLI', () => {
  it('explains a missing DATABASE_URL', async () => {
    const result = await runCli({ DATABASE_URL: undefined })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('DATABASE_URL is not set')
  })

  it('migrates and says what it applied, without printing the password', async () => {
    const db = await createTestDatabase({ migrate: false })
    databases.push(db)
    // Trust auth ignores the password, so it must still never show up in the output.
    const url = db.url.replace('postgres@', 'postgres:pa55-never-print@')
    const first = await runCli({ DATABASE_URL: url })
    expect(first.code).toBe(0)
    // Every migration in prisma/migrations, the first being the initial one.
    expect(first.stdout).toMatch(/Applied \d+ migration\(s\): \d{14}_init/)
    expect(first.stdout).toContain('postgres:***@')
    const second = await runCli({ DATABASE_URL: url })
    expect(second.stdout).toContain('Database is up to date')
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain('pa55-never-print')
  })

  it('fails with exit code 1 and a redacted message when the server is unreachable', async () => {
    const result = await runCli({ DATABASE_URL: 'postgresql://app:pa55-never-print@127.0.0.1:1/stampede' })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('Migration of postgresql://app:***@127.0.0.1:1/stampede failed')
    expect(result.stdout + result.stderr).not.toContain('pa55-never-print')
  })
})
