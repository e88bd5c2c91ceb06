// The run's life cycle as every part of Stampede sees it.
import { z } from 'zod'

export const RUN_STATUSES = ['queued', 'running', 'passed', 'failed', 'error', 'cancelled', 'timed_out'] as const
export const runStatusSchema = z.enum(RUN_STATUSES)
export type RunStatus = z.infer<typeof runStatusSchema>

export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['passed', 'failed', 'error', 'cancelled', 'timed_out'])
export const isTerminal = (status: RunStatus): boolean => TERMINAL_STATUSES.has(status)

export const runTriggerSchema = z.enum(['manual', 'api', 'schedule'])
export type RunTrigger = z.infer<typeof runTriggerSchema>

/** Artifacts every finished run may have, stored under artifactKey(runId, file). */
export const ARTIFACTS = {
  summary: { file: 'summary.json', contentType: 'application/json' },
  report: { file: 'report.html', contentType: 'text/html; charset=utf-8' },
  log: { file: 'console.log', contentType: 'text/plain; charset=utf-8' },
  /** Stampede's metric frames, one JSON line per second (packages/k6-output/FRAMES.md), gzipped. Runs before the frames: k6's per-sample JSON. */
  metrics: { file: 'metrics.ndjson.gz', contentType: 'application/gzip' },
  /** k6's per-sample JSON stream (`--out json`), gzipped; only for runs that asked for raw samples. */
  samples: { file: 'samples.json.gz', contentType: 'application/gzip' },
} as const
export type ArtifactName = keyof typeof ARTIFACTS
export const artifactNameSchema = z.enum(['summary', 'report', 'log', 'metrics', 'samples'])
/** The console as structured lines (seq, stream, time), used to replay finished runs. */
export const CONSOLE_INDEX_FILE = 'console.ndjson'

/** The storage key of one of a run's files (`runs/<runId>/<file>`): the only place that format is written. */
export const artifactKey = (runId: string, file: string): string => `runs/${runId}/${file}`

export const artifactRecordSchema = z.object({ key: z.string(), bytes: z.number().int(), sha256: z.string() })
export type ArtifactRecord = z.infer<typeof artifactRecordSchema>
export const artifactsSchema = z.partialRecord(artifactNameSchema, artifactRecordSchema)
export type Artifacts = z.infer<typeof artifactsSchema>
