// The activities of a job's firing, on the orchestration queue. Each is idempotent: a firing is
// keyed by its workflow id (unique per scheduled time) and its runs by a UUID derived from that id
// and the test's position, so a retried activity or a restarted worker never makes a second row.
// A firing's runs are created by createRun (@stampede/runs) like manual starts, through the same
// gates: the location, the test, its variables, script validation (k6 inspect in the sandbox),
// the project's VU and duration caps and its maxConcurrentRuns. A test a gate refuses is not
// started, nor are the tests after it, and the firing ends `skipped` with the reason.
import { createHash, createHmac } from 'node:crypto'
import { ApplicationFailure, Context } from '@temporalio/activity'
import type { Db } from '@stampede/db'
import { createRun, type CreateRunDeps, type RunRefusal, type RunValidator } from '@stampede/runs'
import { decryptSecret, parseSecretsKey } from '@stampede/db/secrets'
import type { RunStatus } from '@stampede/shared'
import { blockingRange, resolveTargetPolicy, storedAllowlist } from '@stampede/shared/targets'
import type { Durability, FiringRun, FiringStatus, WebhookEvent } from '@stampede/shared/temporal'

export interface JobActivityDeps {
  db: Db
  secretsKey?: string | undefined
  /** Base URL of the web UI, for links in webhook bodies. */
  webUrl: string
  /** Run timeout for scheduled runs. */
  runTimeoutSeconds: number
  /** How the firing's runs wait out storage and runner faults. */
  durability?: Durability
  /** Single-machine mode: webhooks, like k6, may reach loopback. */
  allowLoopbackTargets: boolean
  fetch?: typeof fetch
  lookup?: (hostname: string) => Promise<{ address: string }[]>
  /**
   * The gates of createRun that need the platform's configuration: the configured locations
   * (RunnerConfig `locations`), the platform's caps (RunnerConfig `scriptLimits`) and the script
   * validator (`k6Validator` from @stampede/runs): a scheduled run passes every gate a manual one does.
   */
  runGates: FiringRunGates
}

export interface FiringRunGates {
  locations: readonly { id: string }[]
  scriptLimits: { maxVUs: number; maxDurationSeconds: number }
  validate: RunValidator
  /** A project's stored file bytes, for validating tests with files or archives. */
  readFiles?: CreateRunDeps['readFiles']
}

async function systemLookup(hostname: string): Promise<{ address: string }[]> {
  const { lookup } = await import('node:dns/promises')
  return lookup(hostname, { all: true })
}

/**
 * Why the webhook URL may not be called, or null. Webhooks obey the same target rules as k6: no
 * loopback, private, link-local or metadata address unless the project's allowlist opens it.
 */
export async function webhookRefusal(url: string, opts: { allowLoopback: boolean; allowlist: string[]; lookup?: JobActivityDeps['lookup'] }): Promise<string | null> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  const { blacklistIPs } = await resolveTargetPolicy({ allowLoopback: opts.allowLoopback, allowlist: opts.allowlist })
  let addresses: string[]
  try {
    addresses = (await (opts.lookup ?? systemLookup)(host)).map((a) => a.address)
  } catch (err) {
    return `cannot resolve ${host}: ${err instanceof Error ? err.message : String(err)}`
  }
  for (const address of addresses) {
    const range = blockingRange(address, blacklistIPs)
    if (range) return `the webhook's address ${address}${address === host ? '' : ` (${host})`} is in a blocked range (${range}); a project admin can allowlist it`
  }
  return null
}

/** A UUID (version 5 layout) derived from `name`: the same firing position always gets the same run id. */
export function derivedUuid(name: string): string {
  const h = createHash('sha256').update(name).digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const hex = h.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const RESPONSE_EXCERPT = 500
const WEBHOOK_TIMEOUT_MS = 10_000

/**
 * passed only if every run passed; a cancelled or broken run makes the firing cancelled or error;
 * a test whose run a gate refused (`skipped`: quota, validation, caps, …) makes it skipped.
 */
export function firingStatus(statuses: RunStatus[], cancelled: boolean, skipped = false): FiringStatus {
  if (cancelled || statuses.includes('cancelled')) return 'cancelled'
  if (skipped) return 'skipped'
  if (statuses.some((s) => s === 'error' || s === 'timed_out' || s === 'queued' || s === 'running')) return 'error'
  if (statuses.includes('failed')) return 'failed'
  return statuses.length > 0 ? 'passed' : 'error'
}

/** "test "x" (2 of 3) was not started, nor the test after it": which test, and that the rest of the firing is not started either. */
function notStarted(at: { test: string; position: number; tests: number }): string {
  const after = at.tests - at.position - 1
  const which = at.tests > 1 ? ` (${at.position + 1} of ${at.tests})` : ''
  const rest = after > 0 ? `, nor the ${after === 1 ? 'test' : `${after} tests`} after it` : ''
  return `test "${at.test}"${which} was not started${rest}`
}

/**
 * Why the test at `position` (of `tests`) is not started: the project has `inFlight` runs queued
 * or running and allows `max`. The tests after it are not started either.
 */
export function quotaSkipReason(input: { project: string; inFlight: number; max: number; test: string; position: number; tests: number }): string {
  return `project "${input.project}" already has ${input.inFlight} run(s) queued or running and allows at most ${input.max} at a time, so ${notStarted(input)}`
}

/**
 * Why a firing's test is not started, from the gate that refused its run: what is wrong and how
 * to fix it, as the job's history, the web job page and the webhook body show it.
 */
export function firingSkipReason(refusal: RunRefusal, at: { test: string; position: number; tests: number }): string {
  switch (refusal.gate) {
    case 'quota':
      return quotaSkipReason({ project: refusal.quota.name, inFlight: refusal.quota.inFlight, max: refusal.quota.max, ...at })
    case 'location':
      return `${notStarted(at)}: the job's location "${refusal.location}" is not a configured location (LOCATIONS has ${refusal.configured.join(', ')}); edit the job to use one of them, or configure "${refusal.location}" again`
    case 'test':
      return `${notStarted(at)}: the test no longer exists; remove it from the job`
    case 'variables':
      return `${notStarted(at)}: ${refusal.name} is both a plain variable and a secret of the test; remove one of them`
    case 'validation':
    case 'caps': {
      const n = refusal.findings.length
      const errors = refusal.findings.map((f) => `${f.line}:${f.column} ${f.code}: ${f.message}`).join('; ')
      const raise =
        refusal.gate === 'caps' && refusal.caps.owner === 'project'
          ? ' Or ask a project admin to raise the project\'s maxVus / maxDurationSeconds (up to the platform\'s MAX_VUS / MAX_DURATION_SECONDS).'
          : ''
      return `${notStarted(at)}: its script ${n === 1 ? 'has an error' : `has ${n} errors`}: ${errors}${raise}`
    }
  }
}

/**
 * Which webhook event a finished firing raises under the job's notifyOn, or null. Anything but
 * passed is a failure, a skipped firing too (its tests did not run); the next pass is a recovery.
 */
export function webhookEventFor(notifyOn: string[], status: FiringStatus, previous: FiringStatus | null): WebhookEvent | null {
  const failing = status !== 'passed'
  const recovered = !failing && previous !== null && previous !== 'passed'
  if (failing && (notifyOn.includes('failure') || notifyOn.includes('always'))) return 'failure'
  if (recovered && (notifyOn.includes('recovery') || notifyOn.includes('always'))) return 'recovery'
  if (notifyOn.includes('always')) return 'firing'
  return null
}

export const signWebhook = (secret: string, timestamp: string, body: string) => `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`

export function createJobActivities(deps: JobActivityDeps) {
  const { db } = deps
  const doFetch = deps.fetch ?? fetch
  const gates = deps.runGates
  const runDeps: CreateRunDeps = { db, locations: gates.locations, validation: { validate: gates.validate, scriptLimits: gates.scriptLimits }, ...(gates.readFiles ? { readFiles: gates.readFiles } : {}) }

  /** Records the firing (once per workflow id); null when the job was deleted meanwhile. */
  async function startFiring(input: { jobId: string; workflowId: string; scheduledAt: string }): Promise<{ firingId: string; tests: number } | null> {
    const job = await db.job.findUnique({ where: { id: input.jobId }, select: { id: true, _count: { select: { tests: true } } } })
    if (!job) return null
    const firing = await db.jobFiring.upsert({
      where: { workflowId: input.workflowId },
      create: { jobId: job.id, workflowId: input.workflowId, scheduledAt: new Date(input.scheduledAt) },
      update: {},
    })
    return { firingId: firing.id, tests: job._count.tests }
  }

  /**
   * Creates (once) the run of the test at `position`, through createRun's gates. Null when the
   * test is not to run: it left the job (or the job was deleted), or a gate refused its run (the
   * location, the test, its variables, script validation, the project's caps or its
   * maxConcurrentRuns) — then the firing records why, and its later tests are not started either.
   *
   * The quota is checked under the same per-project lock as runs.start, so a manual start and a
   * firing cannot both take the last slot. A retry finds what the first attempt did: the run it
   * created (its id is derived from the firing and the position), or the reason it recorded.
   */
  async function prepareFiringRun(input: { firingId: string; position: number }): Promise<FiringRun | null> {
    const firing = await db.jobFiring.findUnique({
      where: { id: input.firingId },
      include: { job: { include: { _count: { select: { tests: true } }, tests: { where: { position: input.position }, include: { test: { select: { name: true } } } } } } },
    })
    // The job (and with it the firing) was deleted, or the test left the job.
    const entry = firing?.job.tests[0]
    if (!firing || !entry) return null
    const { job } = firing
    const runId = derivedUuid(`${firing.workflowId}:${input.position}`)
    const started: FiringRun = { runId, locationId: job.locationId, timeoutSeconds: deps.runTimeoutSeconds, ...(deps.durability ? { durability: deps.durability } : {}) }
    if (await db.run.findUnique({ where: { id: runId }, select: { id: true } })) return started
    // An earlier test of this firing (or an earlier attempt at this one) was refused.
    if (firing.reason !== null) return null
    const created = await createRun(runDeps, {
      id: runId,
      projectId: job.projectId,
      location: job.locationId,
      testId: entry.testId,
      trigger: 'schedule',
      timeoutSeconds: deps.runTimeoutSeconds,
      firing: { jobId: firing.jobId, firingId: firing.id },
      // The job's raw-samples setting, read at the firing; null leaves it to the test's.
      ...(job.rawSamples !== null ? { rawSamples: job.rawSamples } : {}),
    })
    if (created.ok) return started
    const reason = firingSkipReason(created.refusal, { test: entry.test.name, position: input.position, tests: job._count.tests })
    // The first reason stays: a later test, or a concurrent attempt, never replaces it.
    await db.jobFiring.updateMany({ where: { id: firing.id, reason: null }, data: { reason } })
    return null
  }

  /** Ends the firing with its outcome and says which webhook event (if any) to deliver. */
  async function finishFiring(input: { firingId: string; cancelled: boolean }): Promise<{ status: FiringStatus; event: WebhookEvent | null }> {
    const firing = await db.jobFiring.findUnique({ where: { id: input.firingId }, include: { runs: { select: { status: true } }, job: true } })
    if (!firing) return { status: 'cancelled', event: null }
    const status = firingStatus(firing.runs.map((r) => r.status), input.cancelled, firing.reason !== null)
    await db.jobFiring.update({ where: { id: firing.id }, data: { status, finishedAt: firing.finishedAt ?? new Date() } })
    const previous = await db.jobFiring.findFirst({
      where: { jobId: firing.jobId, id: { not: firing.id }, finishedAt: { not: null }, scheduledAt: { lt: firing.scheduledAt } },
      orderBy: { scheduledAt: 'desc' },
      select: { status: true },
    })
    const event = firing.job.webhookUrl ? webhookEventFor(firing.job.notifyOn.split(','), status, (previous?.status as FiringStatus | undefined) ?? null) : null
    return { status, event }
  }

  /** One delivery attempt; Temporal retries failures with backoff. Every attempt is logged. */
  async function deliverWebhook(input: { firingId: string; event: WebhookEvent }): Promise<void> {
    const firing = await db.jobFiring.findUnique({ where: { id: input.firingId }, include: { job: { include: { project: { select: { allowlist: true } } } }, runs: { orderBy: { createdAt: 'asc' } } } })
    if (!firing) return
    const { job } = firing
    if (!job.webhookUrl || !job.webhookSecret) return
    if (!deps.secretsKey) throw ApplicationFailure.nonRetryable('the job has a webhook but this runner has no SECRETS_KEY to sign it; give it the API\'s SECRETS_KEY')
    const secret = decryptSecret(parseSecretsKey(deps.secretsKey), job.webhookSecret)
    const body = JSON.stringify({
      event: input.event,
      job: { id: job.id, name: job.name, link: `${deps.webUrl}/jobs/${job.id}` },
      firing: { id: firing.id, status: firing.status, reason: firing.reason, scheduledAt: firing.scheduledAt.toISOString(), finishedAt: firing.finishedAt?.toISOString() ?? null },
      runs: firing.runs.map((r) => ({
        id: r.id,
        testId: r.testId,
        status: r.status,
        link: `${deps.webUrl}/runs/${r.id}`,
        metrics: { httpReqs: r.httpReqs, httpReqRate: r.httpReqRate, httpReqFailedRate: r.httpReqFailedRate, p95Ms: r.httpReqDurationP95, checksFailed: r.checksFailed },
        error: r.errorMessage,
      })),
    })
    const attempt = Context.current().info.attempt
    const timestamp = String(Math.floor(Date.now() / 1000))
    const started = Date.now()
    let statusCode: number | null = null
    let response: string
    const allowlist = storedAllowlist(job.project.allowlist)
    const refusal = await webhookRefusal(job.webhookUrl, { allowLoopback: deps.allowLoopbackTargets, allowlist, ...(deps.lookup ? { lookup: deps.lookup } : {}) })
    if (refusal) {
      await db.webhookDelivery.create({ data: { jobId: job.id, firingId: firing.id, event: input.event, attempt, url: job.webhookUrl, statusCode: null, response: `not sent: ${refusal}`, ok: false, durationMs: 0 } })
      throw ApplicationFailure.nonRetryable(refusal)
    }
    try {
      const res = await doFetch(job.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Stampede-Webhook/1',
          'x-stampede-event': input.event,
          'x-stampede-delivery': `${firing.id}:${input.event}`,
          'x-stampede-timestamp': timestamp,
          'x-stampede-signature': signWebhook(secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      })
      statusCode = res.status
      response = (await res.text().catch(() => '')).slice(0, RESPONSE_EXCERPT)
    } catch (err) {
      response = `no response: ${err instanceof Error ? err.message : String(err)}`.slice(0, RESPONSE_EXCERPT)
    }
    const ok = statusCode !== null && statusCode >= 200 && statusCode < 300
    await db.webhookDelivery.create({
      data: { jobId: job.id, firingId: firing.id, event: input.event, attempt, url: job.webhookUrl, statusCode, response, ok, durationMs: Date.now() - started },
    })
    if (ok) return
    const message = statusCode === null ? response : `the webhook answered ${statusCode}`
    // Client errors other than timeouts and rate limits will not get better by retrying.
    if (statusCode !== null && statusCode >= 400 && statusCode < 500 && statusCode !== 408 && statusCode !== 429) throw ApplicationFailure.nonRetryable(message)
    throw ApplicationFailure.retryable(message)
  }

  return { startFiring, prepareFiringRun, finishFiring, deliverWebhook }
}

export type JobActivities = ReturnType<typeof createJobActivities>
