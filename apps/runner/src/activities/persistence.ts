// recordRunResult: the database write that ends a run. Runs on the orchestration queue and is
// retried by Temporal; it is idempotent (the same input always writes the same row).
import { ARTIFACTS, artifactKey, type Artifacts, type ArtifactName, type RunStatus } from '@stampede/shared'
import { describeExitCode, extractRunMetrics, parseSummary, statusForExitCode, thresholdResults, type K6Summary } from '@stampede/shared/k6'
import type { K6Outcome, RecordRunInput } from '@stampede/shared/temporal'
import type { Db } from '@stampede/db'
import type { Storage } from '@stampede/storage'
import { createHash } from 'node:crypto'

export interface PersistenceDeps {
  db: Db
  storage: Storage
}

function statusOf(outcome: K6Outcome, summary: K6Summary | undefined): { status: RunStatus; error: string | null } {
  if (outcome.reason === 'timed_out') return { status: 'timed_out', error: 'the run exceeded its timeout and was stopped' }
  if (outcome.reason === 'cancelled') return { status: 'cancelled', error: null }
  // A limit of the sandbox or a cap ended k6: the message names it and its value.
  if (outcome.reason === 'limit') return { status: 'error', error: outcome.errorText ?? 'k6 was stopped at a limit' }
  const status = statusForExitCode(outcome.exitCode)
  if (status === 'error') {
    const detail = outcome.errorText ?? (outcome.exitCode === null ? `k6 was killed by ${outcome.signal ?? 'a signal'}` : describeExitCode(outcome.exitCode))
    return { status, error: detail }
  }
  if (!summary) return { status: 'error', error: 'k6 finished but wrote no summary' }
  if (status === 'failed') {
    const crossed = thresholdResults(summary).filter((t) => !t.ok)
    return { status, error: `thresholds crossed: ${crossed.map((t) => `${t.metric} '${t.expression}'`).join(', ')}` }
  }
  return { status, error: null }
}

export function createPersistenceActivities({ db, storage }: PersistenceDeps) {
  async function loadSummary(artifacts: Artifacts): Promise<{ summary?: K6Summary; json?: unknown; problem?: string }> {
    if (!artifacts.summary) return {}
    let json: unknown
    try {
      json = JSON.parse((await storage.getBytes(artifacts.summary.key)).toString('utf8'))
    } catch (err) {
      // A summary k6 could not finish (a file-size limit, a kill mid-write) is not JSON: the run
      // says so instead of retrying the write forever.
      if (!(err instanceof SyntaxError)) throw err
      return { problem: `k6's summary is not complete JSON (${err.message})` }
    }
    try {
      return { summary: parseSummary(json), json }
    } catch (err) {
      return { json, problem: `k6's summary did not match the expected format: ${err instanceof Error ? err.message : String(err)}` }
    }
  }

  /** Used when the activity never reported (cancelled while queued, or the runner was lost). */
  async function probeArtifacts(runId: string): Promise<Artifacts> {
    const found: Artifacts = {}
    for (const [name, def] of Object.entries(ARTIFACTS) as [ArtifactName, (typeof ARTIFACTS)[ArtifactName]][]) {
      const key = artifactKey(runId, def.file)
      if (!(await storage.exists(key))) continue
      const bytes = await storage.getBytes(key)
      found[name] = { key, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
    }
    return found
  }

  async function recordRunResult(input: RecordRunInput): Promise<RunStatus> {
    const { runId } = input
    if (input.kind !== 'completed') {
      const artifacts = await probeArtifacts(runId)
      const status: RunStatus = input.kind === 'cancelled' ? 'cancelled' : 'error'
      const run = await db.run.findUniqueOrThrow({ where: { id: runId }, select: { startedAt: true } })
      const finishedAt = new Date()
      await db.run.update({
        where: { id: runId },
        data: {
          status,
          finishedAt,
          durationMs: run.startedAt ? finishedAt.getTime() - run.startedAt.getTime() : null,
          errorMessage: input.kind === 'error' ? input.message : null,
          artifacts,
        },
      })
      return status
    }

    const { outcome } = input
    const { summary, json, problem } = await loadSummary(outcome.artifacts)
    // A stop at a limit, a cancel or a timeout explains a missing or cut summary better than the summary can.
    const { status, error } = problem && outcome.reason === 'exited' ? { status: 'error' as const, error: problem } : statusOf(outcome, summary)
    const metrics = summary ? extractRunMetrics(summary) : undefined
    const thresholds = summary ? thresholdResults(summary) : undefined
    const startedAt = new Date(outcome.startedAt)
    const finishedAt = new Date(outcome.finishedAt)
    await db.run.update({
      where: { id: runId },
      data: {
        status,
        startedAt,
        finishedAt,
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        exitCode: outcome.exitCode,
        errorMessage: error,
        artifacts: outcome.artifacts,
        consoleLines: outcome.consoleLines,
        ...(summary && thresholds && metrics
          ? {
              summary: json as object,
              thresholds: thresholds.map((t) => ({ ...t })),
              thresholdsPassed: thresholds.every((t) => t.ok),
              ...metrics,
              httpReqs: metrics.httpReqs,
              dataSent: metrics.dataSent === null ? null : BigInt(Math.round(metrics.dataSent)),
              dataReceived: metrics.dataReceived === null ? null : BigInt(Math.round(metrics.dataReceived)),
            }
          : {}),
      },
    })
    return status
  }

  return { recordRunResult }
}

export type PersistenceActivities = ReturnType<typeof createPersistenceActivities>
