// A location runner on Temporal alone: a runner process whose environment holds no database URL,
// storage keys or secrets key runs a test with variables and secrets; k6 gets both, the
// artifacts are stored byte for byte through presigned URLs, the run's decoded Temporal history
// holds no secret value, and the run's secrets grant cannot be redeemed again, for another run,
// or after its run ended.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Client, Connection } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SECRETS_GRANT_PATH } from '@stampede/shared/temporal'
import { startFaultStack, type FaultStack } from '../src/fault-stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { runFinished, waitUntil } from '../src/wait.ts'
import { historyText } from '../src/history.ts'

const SECRET = `tok-${crypto.randomUUID()}`
const GREETING = 'hello-from-a-plain-variable'
const CREDENTIALS = ['DATABASE_URL', 'SECRETS_KEY', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_ENDPOINT']

let stack: FaultStack
let target: Target
let temporal: Client

beforeAll(async () => {
  target = await startTarget()
  // The orchestrating runner serves us-east only; eu-west's runner is a location runner.
  stack = await startFaultStack({
    locations: 'us-east:US East:Virginia,eu-west:EU West:Ireland,ap-south:AP South:Mumbai',
    runner: { ENABLE_LOCATION_FILTERING: 'true', WORKER_LOCATION: 'us-east' },
  })
  await stack.startLocationRunner('far', 'eu-west')
  temporal = new Client({ connection: await Connection.connect({ address: stack.temporal.address }), namespace: stack.temporal.namespace })
}, 180_000)
afterAll(async () => {
  await temporal?.connection.close()
  await stack?.stop()
  await target?.stop()
})

/** A process's environment, as the kernel holds it. */
function processEnv(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
}

/** The secrets grant the workflow handed out with the run's newest executeK6 task. */
async function grantOf(runId: string): Promise<{ url: string; token: string } | undefined> {
  const history = await temporal.workflow.getHandle(`run-${runId}`).fetchHistory()
  let grant: { url: string; token: string } | undefined
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes
    if (scheduled?.activityType?.name !== 'executeK6') continue
    const data = scheduled.input?.payloads?.[0]?.data
    if (data) grant = (JSON.parse(Buffer.from(data).toString('utf8')) as { secrets?: { url: string; token: string } }).secrets
  }
  return grant
}

const redeem = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (res) => ({ status: res.status, body: (await res.json()) as { secrets?: Record<string, string>; error?: { code: string; message: string } } }))

describe('a location runner with Temporal settings alone', () => {
  it('holds no database URL, storage keys or secrets key, yet runs a test with variables and secrets', async () => {
    const pid = stack.runnerPid('far')
    expect(pid).toBeDefined()
    const env = processEnv(pid!)
    for (const name of CREDENTIALS) expect(env[name], `${name} in the location runner's environment`).toBeUndefined()
    expect(env.TEMPORAL_ADDRESS).toBe(stack.temporal.address)
    expect(stack.logs('far')).toMatch(/polling k6-eu-west, stampede-runner-[0-9a-f]+ \(/)

    target.reset()
    const test = await stack.api.tests.create.mutate({
      name: 'far with secrets',
      script: `
        import http from 'k6/http'
        import { check, sleep } from 'k6'
        export const options = { iterations: 2, thresholds: { checks: ['rate==1'] } }
        export default function () {
          const res = http.get(__ENV.TARGET + '/far', { headers: { authorization: 'Bearer ' + __ENV.API_TOKEN, 'x-greeting': __ENV.GREETING } })
          check(res, { 'status is 200': (r) => r.status === 200 })
          console.log('token is ' + __ENV.API_TOKEN + ', greeting is ' + __ENV.GREETING)
          // Long enough for k6's dashboard to write its HTML report.
          sleep(1)
        }`,
      variables: [
        { name: 'TARGET', value: target.url },
        { name: 'GREETING', value: GREETING },
      ],
      secrets: [{ name: 'API_TOKEN', value: SECRET }],
    })
    const started = await stack.api.runs.start.mutate({ testId: test.id, location: 'eu-west' })
    const run = await runFinished(stack.api, started.id)
    expect(run.status, run.errorMessage ?? '').toBe('passed')
    expect(run.startedAt).not.toBeNull()
    // k6 got the variable and the secret, from the location runner.
    expect(target.countOf('/far')).toBe(2)
    expect(target.headers.map((h) => h.authorization)).toEqual([`Bearer ${SECRET}`, `Bearer ${SECRET}`])
    expect(target.headers.every((h) => h['x-greeting'] === GREETING)).toBe(true)
    expect(stack.logs('far')).toContain(`run ${run.id}: artifacts stored (summary, report, log, metrics)`)

    // Every artifact is stored byte for byte as the runner hashed it while uploading.
    for (const name of ['summary', 'report', 'log', 'metrics'] as const) {
      const record = run.artifacts[name]
      expect(record, `the run stored its ${name}`).toBeTruthy()
      const { url } = await stack.api.runs.artifactUrl.query({ runId: run.id, name })
      const bytes = Buffer.from(await (await fetch(url)).arrayBuffer())
      expect(bytes.length).toBe(record!.bytes)
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(record!.sha256)
    }
    const { url: logUrl } = await stack.api.runs.artifactUrl.query({ runId: run.id, name: 'log' })
    const log = await (await fetch(logUrl)).text()
    expect(log).toContain(`token is [secret], greeting is ${GREETING}`)
    expect(log).not.toContain(SECRET)

    // The run's history carries the script and the grant, never the secret's value.
    const { text: history } = await historyText(temporal, run.id)
    expect(history).toContain('__ENV.API_TOKEN')
    expect(history).toContain(GREETING)
    expect(history).not.toContain(SECRET)
    expect(history).not.toContain(Buffer.from(SECRET).toString('base64'))

    // The grant was redeemed by the runner; a second time it is refused, as for another run.
    const grant = await grantOf(run.id)
    expect(grant?.url).toBe(`${stack.apiUrl}${SECRETS_GRANT_PATH}`)
    const again = await redeem(grant!.url, { runId: run.id, token: grant!.token })
    expect(again.status).toBe(410)
    expect(again.body.error?.code).toMatch(/^(used|ended)$/)
    expect(JSON.stringify(again.body)).not.toContain(SECRET)
    const otherRun = await stack.api.runs.start.mutate({ testId: test.id, location: 'eu-west' })
    const elsewhere = await redeem(grant!.url, { runId: otherRun.id, token: grant!.token })
    expect(elsewhere).toEqual({ status: 403, body: { error: { code: 'refused', message: 'no such secrets grant for this run' } } })
    expect((await runFinished(stack.api, otherRun.id)).status).toBe('passed')
    const garbage = await redeem(grant!.url, { token: 'x' })
    expect(garbage.status).toBe(400)
    expect(garbage.body.error?.message).toContain('runId')
  }, 180_000)

  it('refuses a grant that was never redeemed once its run has ended', async () => {
    const test = await stack.api.tests.create.mutate({ name: 'nobody runs it', script: 'export default function () {}', secrets: [{ name: 'API_TOKEN', value: SECRET }] })
    // No runner serves ap-south: the run waits with its grant, unredeemed, until it is cancelled.
    const started = await stack.api.runs.start.mutate({ testId: test.id, location: 'ap-south' })
    const grant = await waitUntil('the run to be handed out with a grant', () => grantOf(started.id))
    await stack.api.runs.cancel.mutate({ id: started.id })
    expect((await runFinished(stack.api, started.id)).status).toBe('cancelled')
    const late = await redeem(grant.url, { runId: started.id, token: grant.token })
    expect(late.status).toBe(410)
    expect(late.body.error).toEqual({ code: 'ended', message: 'the run has ended (cancelled); its secrets are no longer handed out' })
  }, 120_000)
})
