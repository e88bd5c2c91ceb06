// What the API returns for a run: plain JSON (no transformer on the wire), so bigints become
// numbers and dates ISO strings.
import type { Prisma } from '@stampede/db'
import { artifactsSchema, type Artifacts, type RunStatus, type RunTrigger } from '@stampede/shared'
import type { ThresholdResult } from '@stampede/shared/k6'

export interface RunDto {
  id: string
  projectId: string
  testId: string | null
  location: string
  trigger: RunTrigger
  jobId: string | null
  status: RunStatus
  /** True while a queued run's location has no runner polling it. */
  waitingForRunner: boolean
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
  timeoutSeconds: number
  /** The run keeps k6's per-sample stream: its `samples` artifact (samples.json.gz), once it has finished. */
  rawSamples: boolean
  exitCode: number | null
  thresholdsPassed: boolean | null
  thresholds: ThresholdResult[]
  metrics: {
    httpReqs: number | null
    httpReqFailedRate: number | null
    httpReqRate: number | null
    iterations: number | null
    vusMax: number | null
    httpReqDuration: { avg: number | null; min: number | null; med: number | null; max: number | null; p90: number | null; p95: number | null; p99: number | null }
    checksPassed: number | null
    checksFailed: number | null
    dataSent: number | null
    dataReceived: number | null
  }
  artifacts: Artifacts
  /** The result is recorded and the artifacts are still being stored (they stay on the runner until storage takes them). */
  artifactsPending: boolean
  consoleLines: number | null
  /** Why the run failed or errored (and why its artifacts could not be stored, when so). */
  errorMessage: string | null
  /**
   * What could not be stored of the run's metric frames (a damaged or missing file, lines that
   * are not frames), whatever its status: runs.metrics has less of the run than k6 measured.
   */
  metricsNote: string | null
}

/**
 * The columns a RunDto is made of, and nothing else: lists select only these (not the script,
 * the variables or the whole k6 summary, which a run's row also holds).
 */
export const runDtoSelect = {
  id: true,
  projectId: true,
  testId: true,
  locationId: true,
  trigger: true,
  jobId: true,
  status: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  durationMs: true,
  timeoutSeconds: true,
  rawSamples: true,
  exitCode: true,
  thresholdsPassed: true,
  thresholds: true,
  httpReqs: true,
  httpReqFailedRate: true,
  httpReqRate: true,
  iterations: true,
  vusMax: true,
  httpReqDurationAvg: true,
  httpReqDurationMin: true,
  httpReqDurationMed: true,
  httpReqDurationMax: true,
  httpReqDurationP90: true,
  httpReqDurationP95: true,
  httpReqDurationP99: true,
  checksPassed: true,
  checksFailed: true,
  dataSent: true,
  dataReceived: true,
  artifacts: true,
  artifactsPending: true,
  consoleLines: true,
  errorMessage: true,
  metricsNote: true,
} as const satisfies Prisma.RunSelect

/** A run's row as far as its DTO needs it (a whole `Run` is one too). */
export type RunDtoRow = Prisma.RunGetPayload<{ select: typeof runDtoSelect }>

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null)
const big = (n: bigint | null): number | null => (n === null ? null : Number(n))

export function toRunDto(run: RunDtoRow, waitingForRunner = false): RunDto {
  const artifacts = artifactsSchema.safeParse(run.artifacts ?? {})
  return {
    id: run.id,
    projectId: run.projectId,
    testId: run.testId,
    location: run.locationId,
    trigger: run.trigger,
    jobId: run.jobId,
    status: run.status,
    waitingForRunner: run.status === 'queued' && waitingForRunner,
    createdAt: run.createdAt.toISOString(),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    durationMs: run.durationMs,
    timeoutSeconds: run.timeoutSeconds,
    rawSamples: run.rawSamples,
    exitCode: run.exitCode,
    thresholdsPassed: run.thresholdsPassed,
    thresholds: Array.isArray(run.thresholds) ? (run.thresholds as unknown as ThresholdResult[]) : [],
    metrics: {
      httpReqs: run.httpReqs,
      httpReqFailedRate: run.httpReqFailedRate,
      httpReqRate: run.httpReqRate,
      iterations: run.iterations,
      vusMax: run.vusMax,
      httpReqDuration: {
        avg: run.httpReqDurationAvg,
        min: run.httpReqDurationMin,
        med: run.httpReqDurationMed,
        max: run.httpReqDurationMax,
        p90: run.httpReqDurationP90,
        p95: run.httpReqDurationP95,
        p99: run.httpReqDurationP99,
      },
      checksPassed: run.checksPassed,
      checksFailed: run.checksFailed,
      dataSent: big(run.dataSent),
      dataReceived: big(run.dataReceived),
    },
    artifacts: artifacts.success ? artifacts.data : {},
    artifactsPending: run.artifactsPending,
    consoleLines: run.consoleLines,
    errorMessage: run.errorMessage,
    metricsNote: run.metricsNote,
  }
}
