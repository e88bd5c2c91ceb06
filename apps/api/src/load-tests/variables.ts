// A test's variables and secrets on the API side. Secrets are encrypted here with SECRETS_KEY
// and never leave as plaintext or ciphertext: responses carry only their names and update times.
// Plain variables are snapshotted onto each run (runs.env, by createRun in @stampede/runs);
// secrets are read by the runner from test_variables when k6 starts, so no copy of them travels
// with the run.
import { TRPCError } from '@trpc/server'
import type { Prisma } from '@stampede/db'
import { encryptSecret, parseSecretsKey, type SecretsKey } from '@stampede/db/secrets'
import type { VariableInput } from '@stampede/shared'

/** Select for a test's variables: never the ciphertext. */
export const variablesSelect = { orderBy: { name: 'asc' }, select: { name: true, secret: true, value: true, updatedAt: true } } as const

export interface VariableRow {
  name: string
  secret: boolean
  value: string | null
  updatedAt: Date
}

export interface VariablesDto {
  variables: { name: string; value: string }[]
  secrets: { name: string; updatedAt: string }[]
}

export function toVariablesDto(rows: VariableRow[] = []): VariablesDto {
  return {
    variables: rows.filter((r) => !r.secret).map((r) => ({ name: r.name, value: r.value ?? '' })),
    secrets: rows.filter((r) => r.secret).map((r) => ({ name: r.name, updatedAt: r.updatedAt.toISOString() })),
  }
}

const badRequest = (message: string) => new TRPCError({ code: 'BAD_REQUEST', message })

const keys = new Map<string, SecretsKey>()
function secretsKey(configured: string | undefined): SecretsKey {
  if (!configured) {
    throw badRequest('secrets: this API has no SECRETS_KEY; set SECRETS_KEY (32 bytes, e.g. `openssl rand -base64 32`) on the API and the same value on every runner to store secrets')
  }
  let key = keys.get(configured)
  if (!key) keys.set(configured, (key = parseSecretsKey(configured)))
  return key
}

function refuseDuplicates(variables: VariableInput[] | undefined, secrets: VariableInput[] | undefined): void {
  const plain = new Set((variables ?? []).map((v) => v.name))
  const i = (secrets ?? []).findIndex((s) => plain.has(s.name))
  if (i >= 0) throw badRequest(`secrets.${i}.name: ${secrets![i]!.name} is also given as a plain variable; a name is either a variable or a secret`)
}

/** Nested-create data for tests.create. */
export function variablesForCreate(
  input: { variables?: VariableInput[] | undefined; secrets?: VariableInput[] | undefined },
  configuredKey: string | undefined,
): Prisma.TestVariableCreateWithoutTestInput[] {
  refuseDuplicates(input.variables, input.secrets)
  const key = input.secrets?.length ? secretsKey(configuredKey) : undefined
  return [
    ...(input.variables ?? []).map((v) => ({ name: v.name, secret: false, value: v.value })),
    ...(input.secrets ?? []).map((s) => ({ name: s.name, secret: true, ciphertext: encryptSecret(key!, s.value) })),
  ]
}

export interface VariablesUpdate {
  variables?: VariableInput[] | undefined
  secrets?: VariableInput[] | undefined
  removeSecrets?: string[] | undefined
}

/** Applies tests.update's variable changes inside the caller's transaction. */
export async function updateVariables(tx: Prisma.TransactionClient, testId: string, input: VariablesUpdate, configuredKey: string | undefined): Promise<void> {
  const { variables, secrets, removeSecrets } = input
  if (variables === undefined && secrets === undefined && removeSecrets === undefined) return
  refuseDuplicates(variables, secrets)
  const key = secrets?.length ? secretsKey(configuredKey) : undefined
  const existing = await tx.testVariable.findMany({ where: { testId }, select: { name: true, secret: true } })
  const existingSecrets = new Set(existing.filter((r) => r.secret).map((r) => r.name))
  const existingPlain = new Set(existing.filter((r) => !r.secret).map((r) => r.name))

  const removing = new Set(removeSecrets ?? [])
  for (const [i, name] of (removeSecrets ?? []).entries()) {
    if (!existingSecrets.has(name)) throw badRequest(`removeSecrets.${i}: ${name} is not a secret of this test`)
    if (secrets?.some((s) => s.name === name)) throw badRequest(`removeSecrets.${i}: ${name} is also set in secrets; either set it or remove it`)
  }
  const finalPlain = variables ? new Set(variables.map((v) => v.name)) : existingPlain
  for (const [i, v] of (variables ?? []).entries()) {
    if (existingSecrets.has(v.name) && !removing.has(v.name)) {
      throw badRequest(`variables.${i}.name: ${v.name} is a secret of this test; remove it with removeSecrets to make it a plain variable`)
    }
  }
  for (const [i, s] of (secrets ?? []).entries()) {
    if (finalPlain.has(s.name)) throw badRequest(`secrets.${i}.name: ${s.name} is a plain variable of this test; drop it from variables to make it a secret`)
  }

  if (removing.size > 0) await tx.testVariable.deleteMany({ where: { testId, secret: true, name: { in: [...removing] } } })
  if (variables) {
    await tx.testVariable.deleteMany({ where: { testId, secret: false } })
    if (variables.length > 0) await tx.testVariable.createMany({ data: variables.map((v) => ({ testId, name: v.name, secret: false, value: v.value })) })
  }
  for (const s of secrets ?? []) {
    const ciphertext = encryptSecret(key!, s.value)
    await tx.testVariable.upsert({
      where: { testId_name: { testId, name: s.name } },
      create: { testId, name: s.name, secret: true, ciphertext },
      update: { secret: true, value: null, ciphertext },
    })
  }
}
