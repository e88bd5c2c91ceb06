// A run's final transitions. recordRunResult: the database write that ends a run, as soon as the
// outcome is known; attachArtifacts: the artifacts, once the runner's spool is stored. Both run
// as activities on the orchestration queue, are retried by Temporal and are idempotent (the same
// input always writes the same row).
import { ARTIFACTS, artifactKey, type ArtifactName, type Artifacts, type RunStatus } from '@stampede/shared'
import { describeExitCode, extractRunMetrics, parseSummary, statusForExitCode, thresholdResults, type K6Summary, type RunMetrics, type ThresholdResult } from '@stampede/shared/k6'
import type { AttachArtifactsInput, K6Outcome, RecordRunInput } from '@stampede/shared/temporal'
import type { Readable } from 'node:stream'
import { DatabaseQueryError, type Db } from '@stampede/db'
import { ArtifactNotFoundError, type Storage } from '@stampede/storage'
import { FrameSourceError, ingestMetricFrames } from './metrics.ts'

export interface PersistenceDeps {
  db: Db
  storage: Storage
}

function statusOf(outcome: K6Outcome, summary: { thresholds: ThresholdResult[] } | undefined): { status: RunStatus; error: string | null } {
  if (outcome.reason === 'timed_out') return { status: 'timed_out', error: 'the run exceeded its timeout and was stopped' }
  if (outcome.reason === 'cancelled') return { status: 'cancelled', error: null }
  // A limit of the sandbox or a cap ended k6, or its runner stopped or died: the message says which.
  if (outcome.reason === 'runner_stopped' || outcome.reason === 'runner_lost') return { status: 'error', error: outcome.errorText ?? 'the runner stopped during the run' }
  if (outcome.reason === 'limit') return { status: 'error', error: outcome.errorText ?? 'k6 was stopped at a limit' }
  const status = statusForExitCode(outcome.exitCode)
  if (status === 'error') {
    const detail = outcome.errorText ?? (outcome.exitCode === null ? `k6 was killed by ${outcome.signal ?? 'a signal'}` : describeExitCode(outcome.exitCode))
    return { status, error: detail }
  }
  if (!summary) return { status: 'error', error: 'k6 finished but wrote no summary' }
  if (status === 'failed') {
    const crossed = summary.thresholds.filter((t) => !t.ok)
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

  async function recordRunResult(input: RecordRunInput): Promise<RunStatus> {
    const { runId } = input
    if (input.kind !== 'completed') {
      const status: RunStatus = input.kind === 'cancelled' ? 'cancelled' : 'error'
      const run = await db.run.findUniqueOrThrow({ where: { id: runId }, select: { startedAt: true, status: true } })
      // A run already recorded (a retried write after the row was written) keeps what it has.
      if (run.status !== 'queued' && run.status !== 'running') return run.status
      // An error's duration is k6's own: up to its last sign of life, not to when this was written.
      const lastSeen = input.kind === 'error' && input.lastSeenAt ? new Date(input.lastSeenAt) : undefined
      const finishedAt = lastSeen && run.startedAt && lastSeen >= run.startedAt ? lastSeen : new Date()
      await db.run.update({
        where: { id: runId },
        data: {
          status,
          finishedAt,
          durationMs: run.startedAt ? finishedAt.getTime() - run.startedAt.getTime() : null,
          errorMessage: input.kind === 'error' ? input.message : null,
        },
      })
      return status
    }

    const { outcome } = input
    const { metrics, thresholds, json, problem } = await resultOf(outcome)
    // A stop at a limit, a cancel or a timeout explains a missing or cut summary better than the summary can.
    const { status, error } = problem && outcome.reason === 'exited' ? { status: 'error' as const, error: problem } : statusOf(outcome, thresholds ? { thresholds } : undefined)
    const startedAt = new Date(outcome.startedAt)
    const finishedAt = new Date(outcome.finishedAt)
    const artifacts = outcome.artifacts ?? {}
    await db.run.update({
      where: { id: runId },
      data: {
        status,
        startedAt,
        finishedAt,
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        exitCode: outcome.exitCode,
        errorMessage: error,
        // Spooled runs attach their artifacts later (attachArtifacts); never wipe ones already attached.
        ...(Object.keys(artifacts).length > 0 ? { artifacts, artifactsPending: false } : { artifactsPending: outcome.runner !== undefined }),
        consoleLines: outcome.consoleLines,
        ...(json !== undefined ? { summary: json as object } : {}),
        ...(thresholds && metrics
          ? {
              thresholds: thresholds.map((t) => ({ ...t })),
              thresholdsPassed: thresholds.every((t) => t.ok),
              ...metrics,
              dataSent: metrics.dataSent === null ? null : BigInt(Math.round(metrics.dataSent)),
              dataReceived: metrics.dataReceived === null ? null : BigInt(Math.round(metrics.dataReceived)),
            }
          : {}),
      },
    })
    return status
  }

  /** What the result needs from k6's summary: as the runner read it, or (older runners) from the stored summary. */
  async function resultOf(outcome: K6Outcome): Promise<{ metrics?: RunMetrics; thresholds?: ThresholdResult[]; json?: unknown; problem?: string }> {
    if (outcome.result) {
      const { metrics, thresholds, problem } = outcome.result
      return { ...(metrics && thresholds ? { metrics: metrics as unknown as RunMetrics, thresholds } : {}), ...(problem ? { problem } : {}) }
    }
    const { summary, json, problem } = await loadSummary(outcome.artifacts ?? {})
    return { ...(summary ? { metrics: extractRunMetrics(summary), thresholds: thresholdResults(summary) } : {}), json, ...(problem ? { problem } : {}) }
  }

  /**
   * Attaches a run's artifacts once its runner's spool is stored (merged with any already
   * attached), with k6's summary kept on the row; a storage problem is kept with the run. What
   * could not be stored of the metric frames goes to the run's `metricsNote`, never to its
   * `errorMessage`: the frames do not decide the run's outcome, and a run that passed has no error.
   */
  async function attachArtifacts(input: AttachArtifactsInput): Promise<void> {
    const run = await db.run.findUnique({ where: { id: input.runId }, select: { artifacts: true, errorMessage: true, summary: true } })
    if (!run) return
    // A runner reports what it uploaded: only the run's own keys are taken (a runner cannot point a run at another's files).
    const reported = Object.fromEntries(Object.entries(input.artifacts).filter(([name, a]) => a && name in ARTIFACTS && a.key === artifactKey(input.runId, ARTIFACTS[name as ArtifactName].file)))
    const artifacts = { ...((run.artifacts ?? {}) as Artifacts), ...reported }
    let summary: unknown
    if (reported.summary && run.summary === null) summary = (await loadSummary(reported)).json
    const withProblem = (message: string | null, problem: string | undefined) => (problem && !message?.includes(problem) ? [message, problem].filter(Boolean).join('\n') : message)
    const errorMessage = withProblem(run.errorMessage, input.problem)
    await db.run.update({
      where: { id: input.runId },
      data: { artifacts, artifactsPending: false, errorMessage, ...(summary !== undefined ? { summary: summary as object } : {}) },
    })
    // The metric frames (runs.metrics); older runs' `metrics` is k6's per-sample JSON, never read here.
    const frames = reported.metrics
    if (frames && frames.key.endsWith(ARTIFACTS.metrics.file)) {
      const note = await storeFrames(input.runId, frames.key)
      if (note) await db.run.update({ where: { id: input.runId }, data: { metricsNote: note } })
    }
  }

  /**
   * Stores a run's metric frames from storage; returns a note for the run (its metricsNote) when
   * they could not all be stored. A damaged file stores what it can; only errors worth a retry (the database, the
   * storage connection) are thrown: a retry goes on from what the last attempt stored.
   */
  async function storeFrames(runId: string, key: string): Promise<string | undefined> {
    let body: Readable
    try {
      body = (await storage.getStream(key)).body
    } catch (err) {
      if (err instanceof ArtifactNotFoundError) return 'metric frames: the file is not in storage; runs.metrics has nothing for this run'
      throw err
    }
    try {
      return (await ingestMetricFrames(db, runId, body)).problem
    } catch (err) {
      if (err instanceof DatabaseQueryError || err instanceof FrameSourceError) throw err
      // Anything else is this file's own problem: retrying would meet it again.
      return `metric frames: could not be stored (${err instanceof Error ? err.message : String(err)})`.slice(0, 500)
    } finally {
      body.destroy()
    }
  }

  return { recordRunResult, attachArtifacts }
}

export type PersistenceActivities = ReturnType<typeof createPersistenceActivities>
