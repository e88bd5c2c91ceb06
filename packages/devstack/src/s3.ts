// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- s3rver ships no types; the declaration must travel with this module into every package that compiles it
/// <reference path="../../../types/s3rver.d.ts" />
// Embedded S3-compatible server (s3rver, in-process, files under `dir`) for zero-setup runs and
// tests, listening on `host` (in single-machine mode the platform's reserved loopback address).
// Clients must use path-style addressing, and should set the AWS SDK's checksum options to
// 'WHEN_REQUIRED': s3rver stores aws-chunked streamed uploads verbatim otherwise.
import { mkdir } from 'node:fs/promises'
import S3rver from 's3rver'
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js'
import { hostPort, listenHost } from './ports.ts'

export interface EmbeddedS3 {
  endpoint: string
  bucket: string
  region: string
  accessKeyId: string
  secretAccessKey: string
  stop(): Promise<void>
}

/** s3rver's built-in key pair. */
const DEFAULT_KEY = 'S3RVER'

export async function startEmbeddedS3(opts: {
  dir: string
  /** The address to listen on; default 127.0.0.1. */
  host?: string
  port?: number
  bucket: string
  accessKeyId?: string
  secretAccessKey?: string
}): Promise<EmbeddedS3> {
  const host = listenHost(opts.host, 'the embedded S3 server')
  await mkdir(opts.dir, { recursive: true })
  const accessKeyId = opts.accessKeyId ?? DEFAULT_KEY
  const secretAccessKey = opts.secretAccessKey ?? DEFAULT_KEY
  const customKey = accessKeyId !== DEFAULT_KEY || secretAccessKey !== DEFAULT_KEY
  // s3rver keeps one process-wide account registry; a custom pair is added to it while running.
  // It rejects unknown key ids but does not verify SigV4 signatures, so the secret is not checked:
  // this is a development store, not an access boundary.
  if (customKey) DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey)

  const server = new S3rver({
    address: host,
    port: opts.port ?? 0,
    silent: true,
    directory: opts.dir,
    vhostBuckets: false,
    configureBuckets: [{ name: opts.bucket }],
  })
  let address
  try {
    address = await server.run()
  } catch (err) {
    if (customKey && accessKeyId !== DEFAULT_KEY) DUMMY_ACCOUNT.revokeAccessKey(accessKeyId)
    throw err
  }

  let stopped: Promise<void> | undefined
  return {
    endpoint: `http://${hostPort(host, address.port)}`,
    bucket: opts.bucket,
    region: 'us-east-1',
    accessKeyId,
    secretAccessKey,
    stop() {
      stopped ??= (async () => {
        const closing = server.close()
        // Keep-alive sockets from SDK clients would otherwise hold close() open.
        server.httpServer?.closeAllConnections()
        await closing
        if (customKey && accessKeyId !== DEFAULT_KEY) DUMMY_ACCOUNT.revokeAccessKey(accessKeyId)
      })()
      return stopped
    },
  }
}
