// The orchestration-queue activities that stand between a run and its location runner, so the
// runner needs no database, storage keys or secrets key: prepareK6 reads what k6 needs (script,
// variables, allowlist, caps) just before the run is handed out, with a single-use secrets grant
// when the test has secrets; markRunning records that k6 started (the runner signals it); and
// presignArtifacts mints upload URLs for that one run's artifacts.
import { ApplicationFailure } from '@temporalio/activity'
import type { Db } from '@stampede/db'
import { mintSecretsGrant } from '@stampede/db/grants'
import { markRunning as markRunningAt } from '@stampede/runs'
import { ARTIFACTS, artifactKey, CONSOLE_INDEX_FILE } from '@stampede/shared'
import { capsFor } from '@stampede/shared/caps'
import { fileBlobKey } from '@stampede/shared/files'
import { storedAllowlist } from '@stampede/shared/targets'
import { SECRETS_GRANT_PATH, type ArtifactUploads, type K6Task, type RunWorkflowInput } from '@stampede/shared/temporal'
import type { Storage } from '@stampede/storage'

/** How long a secrets grant may wait for a runner to take the run; past it the run is handed out with a new one. */
export const SECRETS_GRANT_SECONDS = 300
/** How long the links to a run's files may wait for a runner to take the run; past it the run is handed out with new ones. */
export const FILE_URL_SECONDS = 900

export interface DispatchDeps {
  db: Db
  storage: Storage
  /** The platform's caps (MAX_VUS, MAX_DURATION_SECONDS), under which a project's hold. */
  scriptLimits: { maxVUs: number; maxDurationSeconds: number }
  /** Where runners reach the API to redeem secrets grants (API_PUBLIC_URL); needed only for tests with secrets. */
  apiUrl?: string
  grantSeconds?: number
  /** How long the links to a run's files stay valid (default FILE_URL_SECONDS). */
  fileUrlSeconds?: number
}

/** The content types of the files a run stores, by file name. */
const UPLOAD_TYPES: Record<string, string> = {
  ...Object.fromEntries(Object.values(ARTIFACTS).map((a) => [a.file, a.contentType])),
  [CONSOLE_INDEX_FILE]: 'application/x-ndjson',
}

export function createDispatchActivities(deps: DispatchDeps) {
  const { db } = deps

  async function prepareK6(input: RunWorkflowInput): Promise<K6Task> {
    const run = await db.run.findUnique({
      where: { id: input.runId },
      select: {
        script: true,
        env: true,
        rawSamples: true,
        projectId: true,
        archiveSha256: true,
        archiveSize: true,
        files: { select: { path: true, sha256: true, size: true }, orderBy: { path: 'asc' } },
        test: { select: { variables: { where: { secret: true }, select: { name: true }, orderBy: { name: 'asc' } } } },
        project: { select: { allowlist: true, maxVus: true, maxDurationSeconds: true } },
      },
    })
    if (!run) throw ApplicationFailure.nonRetryable(`run ${input.runId} no longer exists`)
    const env: Record<string, string> = {}
    if (run.env && typeof run.env === 'object' && !Array.isArray(run.env)) {
      for (const [name, value] of Object.entries(run.env)) if (typeof value === 'string') env[name] = value
    }
    const names = (run.test?.variables ?? []).map((v) => v.name)
    const allowlist = storedAllowlist(run.project.allowlist)
    const task: K6Task = { ...input, script: run.script, env, allowlist, caps: capsFor(deps.scriptLimits, run.project), ...(run.rawSamples ? { rawSamples: true } : {}) }
    // The run's own snapshot of its files: links to those blobs alone, for a while.
    if (run.files.length > 0 || run.archiveSha256 !== null) {
      const seconds = deps.fileUrlSeconds ?? FILE_URL_SECONDS
      const url = (sha256: string) => deps.storage.presignGet(fileBlobKey(run.projectId, sha256), { expiresInSeconds: seconds })
      task.filesExpireAt = new Date(Date.now() + seconds * 1000).toISOString()
      if (run.archiveSha256 !== null) task.archive = { sha256: run.archiveSha256, size: run.archiveSize ?? 0, url: await url(run.archiveSha256) }
      else task.files = await Promise.all(run.files.map(async (f) => ({ ...f, url: await url(f.sha256) })))
    }
    if (names.length === 0) return task
    if (!deps.apiUrl) {
      throw ApplicationFailure.nonRetryable(
        `the test has secrets (${names.join(', ')}) but the orchestration worker has no API_PUBLIC_URL, so runners cannot fetch them; set API_PUBLIC_URL on it to the API's address as runners reach it`,
      )
    }
    const grant = await mintSecretsGrant(db, input.runId, deps.grantSeconds ?? SECRETS_GRANT_SECONDS)
    return { ...task, secrets: { url: `${deps.apiUrl}${SECRETS_GRANT_PATH}`, token: grant.token, expiresAt: grant.expiresAt.toISOString(), names } }
  }

  /** queued → running, once; a run already further along keeps its status. */
  async function markRunning(input: { runId: string; startedAt: string }): Promise<void> {
    await markRunningAt(db, input.runId, new Date(input.startedAt))
  }

  /** PUT URLs for each file a run may store, valid for `expiresInSeconds`, each for that run's key alone. */
  async function presignArtifacts(input: { runId: string; expiresInSeconds: number }): Promise<ArtifactUploads> {
    const files: ArtifactUploads['files'] = {}
    for (const [file, contentType] of Object.entries(UPLOAD_TYPES)) {
      files[file] = { url: await deps.storage.presignPut(artifactKey(input.runId, file), { expiresInSeconds: input.expiresInSeconds, contentType }), headers: { 'content-type': contentType } }
    }
    return { runId: input.runId, expiresAt: new Date(Date.now() + input.expiresInSeconds * 1000).toISOString(), files }
  }

  return { prepareK6, markRunning, presignArtifacts }
}

export type DispatchActivities = ReturnType<typeof createDispatchActivities>
