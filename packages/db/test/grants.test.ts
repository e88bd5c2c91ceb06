// Secrets grants against a real database: a grant yields its run's secrets once, before it
// expires, while the run is live, and to nobody else; concurrent redemptions get them once.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '../src/index.ts'
import { mintSecretsGrant, redeemSecretsGrant } from '../src/grants.ts'
import { encryptSecret, generateSecretsKey, parseSecretsKey } from '../src/secrets.ts'
import { createTestDatabase, type TestDatabase } from '../src/testing.ts'

let database: TestDatabase
let db: Db
const KEY = generateSecretsKey()
beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url, { max: 8 })
  await db.location.create({ data: { id: 'grant-loc', name: 'Grants', region: 'x' } })
})
afterAll(async () => {
  await db?.$disconnect()
  await database?.drop()
})

async function runWithSecret(value: string, status: 'queued' | 'running' | 'passed' = 'queued') {
  const { id: projectId } = await db.project.findFirstOrThrow()
  const test = await db.test.create({
    data: { projectId, name: `t-${randomUUID()}`, script: 'x', variables: { create: [{ name: 'TOKEN', secret: true, ciphertext: encryptSecret(parseSecretsKey(KEY), value) }, { name: 'PLAIN', secret: false, value: 'p' }] } },
  })
  const id = randomUUID()
  await db.run.create({ data: { id, projectId, testId: test.id, script: 'x', locationId: 'grant-loc', trigger: 'api', status, timeoutSeconds: 60, workflowId: `run-${id}` } })
  return id
}

describe('secrets grants', () => {
  it('hands a run its secrets once, storing only the hash of the token', async () => {
    const runId = await runWithSecret('s3cr3t-value')
    const grant = await mintSecretsGrant(db, runId, 60)
    expect(grant.token).toMatch(/^sg_[A-Za-z0-9_-]{43}$/)
    const rows = await db.secretsGrant.findMany({ where: { runId } })
    expect(rows).toHaveLength(1)
    expect(rows[0]!.id).not.toContain(grant.token)
    expect(await redeemSecretsGrant(db, { runId, token: grant.token }, KEY)).toEqual({ ok: true, secrets: { TOKEN: 's3cr3t-value' } })
    expect(await redeemSecretsGrant(db, { runId, token: grant.token }, KEY)).toMatchObject({ ok: false, why: 'used' })
  })

  it('refuses another run, a wrong token, an expired grant and an ended run', async () => {
    const runId = await runWithSecret('a')
    const other = await runWithSecret('b')
    const grant = await mintSecretsGrant(db, runId, 60)
    expect(await redeemSecretsGrant(db, { runId: other, token: grant.token }, KEY)).toEqual({ ok: false, why: 'refused', message: 'no such secrets grant for this run' })
    expect(await redeemSecretsGrant(db, { runId, token: `${grant.token}x` }, KEY)).toMatchObject({ ok: false, why: 'refused' })
    const later = new Date(Date.now() + 61_000)
    expect(await redeemSecretsGrant(db, { runId, token: grant.token }, KEY, later)).toMatchObject({ ok: false, why: 'expired' })
    const ended = await runWithSecret('c', 'passed')
    const endedGrant = await mintSecretsGrant(db, ended, 60)
    expect(await redeemSecretsGrant(db, { runId: ended, token: endedGrant.token }, KEY)).toEqual({ ok: false, why: 'ended', message: 'the run has ended (passed); its secrets are no longer handed out' })
    // Without the key the API says so, and the refusal quotes nothing stored.
    const noKey = await runWithSecret('d')
    const noKeyGrant = await mintSecretsGrant(db, noKey, 60)
    expect(await redeemSecretsGrant(db, { runId: noKey, token: noKeyGrant.token }, undefined)).toMatchObject({ ok: false, why: 'unavailable' })
  })

  it('keeps one live grant per run: a new one replaces an unredeemed one', async () => {
    const runId = await runWithSecret('x')
    const first = await mintSecretsGrant(db, runId, 60)
    const second = await mintSecretsGrant(db, runId, 60)
    expect(await redeemSecretsGrant(db, { runId, token: first.token }, KEY)).toMatchObject({ ok: false, why: 'refused' })
    expect(await redeemSecretsGrant(db, { runId, token: second.token }, KEY)).toMatchObject({ ok: true })
  })

  it('answers concurrent redemptions of one grant once', async () => {
    const runId = await runWithSecret('race')
    const grant = await mintSecretsGrant(db, runId, 60)
    const answers = await Promise.all(Array.from({ length: 8 }, () => redeemSecretsGrant(db, { runId, token: grant.token }, KEY)))
    expect(answers.filter((a) => a.ok)).toHaveLength(1)
    expect(answers.filter((a) => !a.ok).every((a) => !a.ok && a.why === 'used')).toBe(true)
  })
})
