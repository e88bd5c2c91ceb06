// What k6 needs for one run, read from the database by run id when k6 starts: the script
// snapshot, the run's plain variables and its test's secrets, decrypted here with SECRETS_KEY.
// None of it travels through workflow or activity arguments, so none reaches Temporal history.
import type { Db } from '@stampede/db'
import { decryptSecret, parseSecretsKey } from '@stampede/db/secrets'
import { capsFor, type ScriptCaps } from '@stampede/shared/caps'

export interface RunSpec {
  script: string
  /** Plain variables, passed to k6 as environment. */
  env: Record<string, string>
  /** Decrypted secrets, passed to k6 as environment and masked in its output. */
  secrets: Record<string, string>
  /** The project's target allowlist (CIDRs, addresses, hostnames), read when k6 starts. */
  allowlist: string[]
  /** The VU and duration caps the run is held to while it runs (the project's, under the platform's). */
  caps: ScriptCaps
}

export async function loadRunSpec(db: Db, runId: string, secretsKey: string | undefined, platformCaps: { maxVUs: number; maxDurationSeconds: number }): Promise<RunSpec> {
  const run = await db.run.findUniqueOrThrow({
    where: { id: runId },
    select: { script: true, env: true, testId: true, project: { select: { allowlist: true, maxVus: true, maxDurationSeconds: true } } },
  })
  const env: Record<string, string> = {}
  if (run.env && typeof run.env === 'object' && !Array.isArray(run.env)) {
    for (const [name, value] of Object.entries(run.env)) if (typeof value === 'string') env[name] = value
  }
  const rows = run.testId ? await db.testVariable.findMany({ where: { testId: run.testId, secret: true }, select: { name: true, ciphertext: true } }) : []
  const secrets: Record<string, string> = {}
  if (rows.length > 0) {
    if (!secretsKey) throw new Error(`the test has secrets (${rows.map((r) => r.name).join(', ')}) but this runner has no SECRETS_KEY; give it the API's SECRETS_KEY`)
    const key = parseSecretsKey(secretsKey)
    for (const row of rows) {
      try {
        secrets[row.name] = decryptSecret(key, row.ciphertext ?? '')
      } catch (err) {
        throw new Error(`secret ${row.name}: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  }
  const allowlist = Array.isArray(run.project.allowlist) ? run.project.allowlist.filter((e): e is string => typeof e === 'string') : []
  return { script: run.script, env, secrets, allowlist, caps: capsFor(platformCaps, run.project) }
}
