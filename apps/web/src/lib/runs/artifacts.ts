// Artifact links are signed and expire, so they are fetched when needed, never stored.
import type { ArtifactName } from '@stampede/shared'
import { api } from '../api/client.ts'

export const ARTIFACT_LABELS: Record<ArtifactName, string> = {
  summary: 'Summary (JSON)',
  report: 'HTML report',
  log: 'Console log',
  metrics: 'Metrics, per second (NDJSON, gzip)',
  samples: 'Raw samples (JSON, gzip)',
}

export const ARTIFACT_ORDER: readonly ArtifactName[] = ['report', 'summary', 'log', 'metrics', 'samples']

export async function artifactUrl(runId: string, name: ArtifactName, signal?: AbortSignal): Promise<string> {
  const link = await api.runs.artifactUrl.query({ runId, name }, { signal })
  return link.url
}
