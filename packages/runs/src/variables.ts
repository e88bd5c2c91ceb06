// The variables a new run snapshots. Plain variables are copied onto the run (runs.env); secrets
// are only named here (the runner reads and decrypts them when k6 starts), so no copy of them
// travels with the run.
import type { Db, Prisma } from '@stampede/db'

export type RunVariables = { ok: true; env: Record<string, string> | null; secretNames: string[] } | { ok: false; name: string; message: string }

/**
 * The plain variables a new run snapshots: its test's, overridden by `env` (runs.start's). A name
 * that is one of the test's secrets is refused: the secret would silently win.
 */
export async function runVariables(db: Db | Prisma.TransactionClient, testId: string | null, env: Record<string, string> | undefined): Promise<RunVariables> {
  const rows = testId ? await db.testVariable.findMany({ where: { testId }, select: { name: true, secret: true, value: true }, orderBy: { name: 'asc' } }) : []
  const secretNames = new Set(rows.filter((r) => r.secret).map((r) => r.name))
  for (const name of Object.keys(env ?? {})) {
    if (secretNames.has(name)) return { ok: false, name, message: `env.${name}: ${name} is a secret of this test; the run uses the stored secret` }
  }
  const merged: Record<string, string> = {}
  for (const r of rows) if (!r.secret) merged[r.name] = r.value ?? ''
  Object.assign(merged, env)
  return { ok: true, env: Object.keys(merged).length > 0 ? merged : null, secretNames: [...secretNames] }
}
