// Fetches a run's files (and archive) into its directory through the presigned links the
// orchestration minted for that run's blobs, so a runner holds no storage credentials. Each file
// is written as it streams in, never past the size it was stored with, and kept only when its
// SHA-256 and size are the stored ones: what k6 loads is byte for byte what the run was validated with.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ApplicationFailure } from '@temporalio/activity'
import { GRANT_EXPIRED } from '@stampede/shared/temporal'
import type { LayoutFile } from '@stampede/sandbox'
import type { K6Task, K6TaskFile } from '@stampede/shared/temporal'

/**
 * How long one file's download may take: a minute plus 1 ms per KB (so at least about 1 MB/s). A
 * storage server that stops sending fails the fetch (Temporal retries the run's activity) rather
 * than hanging it.
 */
const downloadTimeoutMs = (size: number) => 60_000 + Math.ceil(size / 1000)

/** Refuses a task whose file links expired while it waited for a runner: the run goes back for new ones. */
export function assertFileLinksValid(task: Pick<K6Task, 'filesExpireAt'>, now = Date.now()): void {
  if (task.filesExpireAt !== undefined && Date.parse(task.filesExpireAt) <= now) {
    throw ApplicationFailure.nonRetryable(`the links to the run's files expired (${task.filesExpireAt}) before a runner took the run`, GRANT_EXPIRED)
  }
}

/** Writes one blob to `target` (a new file, mode 0600), checking its size and SHA-256. */
export async function fetchBlob(blob: Pick<K6TaskFile, 'url' | 'sha256' | 'size'>, target: string, name: string): Promise<void> {
  const response = await fetch(blob.url, { signal: AbortSignal.timeout(downloadTimeoutMs(blob.size)) })
  if (!response.ok || !response.body) {
    // The status names the problem; never the URL, which is a credential.
    throw new Error(`storage refused the run's file ${name} (HTTP ${response.status})`)
  }
  const hash = createHash('sha256')
  let bytes = 0
  const checking = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length
      if (bytes > blob.size) return done(new Error(`the run's file ${name} is larger than the ${blob.size} bytes it was stored with`))
      hash.update(chunk)
      done(null, chunk)
    },
  })
  try {
    await pipeline(Readable.fromWeb(response.body), checking, createWriteStream(target, { flags: 'wx', mode: 0o600 }))
    const sha256 = hash.digest('hex')
    if (bytes !== blob.size || sha256 !== blob.sha256) {
      throw ApplicationFailure.nonRetryable(`the run's file ${name} is not what was stored (${bytes} bytes, SHA-256 ${sha256}; expected ${blob.size} bytes, ${blob.sha256}); the storage's copy is damaged`)
    }
  } catch (err) {
    await rm(target, { force: true })
    throw err
  }
}

/** The run's files as the sandbox lays them out, each fetched into place. */
export const taskLayout = (files: readonly K6TaskFile[]): LayoutFile[] => files.map((f) => ({ path: f.path, write: (target) => fetchBlob(f, target, f.path) }))
