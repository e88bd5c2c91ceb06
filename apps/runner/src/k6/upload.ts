// Uploads a spooled file through a presigned URL the orchestration minted for that one object,
// so a runner holds no storage credentials. Written on node:http(s) rather than fetch: S3 needs
// a Content-Length on a streamed PUT (fetch would send it chunked), and the file is streamed
// from disk while its sha256 is computed from the same bytes.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ArtifactUpload } from '@stampede/shared/temporal'

/** An upload the storage refused (its answer), as opposed to one that could not reach it. */
export class UploadRefused extends Error {
  override name = 'UploadRefused'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

const MAX_ANSWER_CHARS = 300
/** A storage server that stops answering fails the upload (Temporal retries it) rather than hanging it. */
const IDLE_TIMEOUT_MS = 60_000

export async function putPresigned(upload: ArtifactUpload, file: string): Promise<{ bytes: number; sha256: string }> {
  const { size } = await stat(file)
  const url = new URL(upload.url)
  const hash = createHash('sha256')
  const request = (url.protocol === 'https:' ? https : http).request(url, {
    method: 'PUT',
    headers: { ...upload.headers, 'content-length': String(size) },
    timeout: IDLE_TIMEOUT_MS,
  })
  const answered = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once('response', resolve)
    request.once('error', reject)
    request.once('timeout', () => request.destroy(new Error(`storage did not answer for ${IDLE_TIMEOUT_MS / 1000} s`)))
  })
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk)
      done(null, chunk)
    },
  })
  await Promise.all([pipeline(createReadStream(file), hashing, request), answered.catch(() => undefined)])
  const response = await answered
  let body = ''
  for await (const chunk of response) if (body.length < MAX_ANSWER_CHARS) body += String(chunk)
  const status = response.statusCode ?? 0
  if (status < 200 || status >= 300) {
    // The answer names the problem (an expired URL, a refused signature); never the URL itself, which is a credential.
    const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1]
    throw new UploadRefused(status, `storage refused the upload of ${url.pathname.split('/').pop()} (HTTP ${status}${code ? ` ${code}` : ''})`)
  }
  return { bytes: size, sha256: hash.digest('hex') }
}
