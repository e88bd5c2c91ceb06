// Artifact storage on any S3-compatible server. Uploads stream from disk and hash as they go,
// so the sha256 recorded for an artifact is of the exact bytes sent. Checksum framing is
// limited to WHEN_REQUIRED: with the default, some S3-compatible servers store streamed bodies
// with aws-chunked framing and the artifact is corrupted.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'

export interface S3Config {
  /** Omit for AWS S3 itself. */
  endpoint?: string
  region: string
  bucket: string
  accessKeyId?: string
  secretAccessKey?: string
  forcePathStyle: boolean
}

export interface StoredObject {
  key: string
  bytes: number
  sha256: string
}

export interface Storage {
  readonly bucket: string
  ensureBucket(): Promise<void>
  ping(): Promise<void>
  putFile(key: string, filePath: string, contentType: string): Promise<StoredObject>
  putBytes(key: string, body: Buffer | string, contentType: string): Promise<StoredObject>
  getBytes(key: string): Promise<Buffer>
  getStream(key: string): Promise<{ body: Readable; contentType?: string; bytes?: number }>
  exists(key: string): Promise<boolean>
  presignGet(key: string, opts: { expiresInSeconds: number; downloadName?: string; contentType?: string }): Promise<string>
  /** A URL through which anyone holding it may PUT this one key (with this Content-Type) until it expires. */
  presignPut(key: string, opts: { expiresInSeconds: number; contentType: string }): Promise<string>
  destroy(): void
}

export class ArtifactNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`artifact ${key} does not exist`)
    this.name = 'ArtifactNotFoundError'
  }
}

const isNotFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404
}

export function createStorage(config: S3Config): Storage {
  const client = new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    // An S3 that stops answering must fail a request (which is then retried) rather than hang it;
    // requestTimeout is the socket's idle time, so large uploads are not cut.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(config.accessKeyId && config.secretAccessKey
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
      : {}),
  })
  const Bucket = config.bucket

  async function sha256OfFile(filePath: string): Promise<string> {
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer)
    return hash.digest('hex')
  }

  return {
    bucket: Bucket,
    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket }))
      } catch (err) {
        if (!isNotFound(err)) throw err
        await client.send(new CreateBucketCommand({ Bucket }))
      }
    },
    async ping() {
      await client.send(new HeadBucketCommand({ Bucket }))
    },
    async putFile(key, filePath, contentType) {
      const { size } = await stat(filePath)
      const sha256 = await sha256OfFile(filePath)
      await client.send(
        new PutObjectCommand({ Bucket, Key: key, Body: createReadStream(filePath), ContentLength: size, ContentType: contentType }),
      )
      return { key, bytes: size, sha256 }
    },
    async putBytes(key, body, contentType) {
      const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: buf, ContentLength: buf.length, ContentType: contentType }))
      return { key, bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') }
    },
    async getBytes(key) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket, Key: key }))
        if (!res.Body) throw new ArtifactNotFoundError(key)
        return Buffer.from(await res.Body.transformToByteArray())
      } catch (err) {
        if (isNotFound(err)) throw new ArtifactNotFoundError(key)
        throw err
      }
    },
    async getStream(key) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket, Key: key }))
        if (!res.Body) throw new ArtifactNotFoundError(key)
        return {
          body: res.Body as Readable,
          ...(res.ContentType ? { contentType: res.ContentType } : {}),
          ...(res.ContentLength !== undefined ? { bytes: res.ContentLength } : {}),
        }
      } catch (err) {
        if (isNotFound(err)) throw new ArtifactNotFoundError(key)
        throw err
      }
    },
    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: key }))
        return true
      } catch (err) {
        if (isNotFound(err)) return false
        throw err
      }
    },
    async presignGet(key, opts) {
      const command = new GetObjectCommand({
        Bucket,
        Key: key,
        ...(opts.downloadName ? { ResponseContentDisposition: `attachment; filename="${opts.downloadName}"` } : {}),
        ...(opts.contentType ? { ResponseContentType: opts.contentType } : {}),
      })
      return getSignedUrl(client, command, { expiresIn: opts.expiresInSeconds })
    },
    async presignPut(key, opts) {
      return getSignedUrl(client, new PutObjectCommand({ Bucket, Key: key, ContentType: opts.contentType }), { expiresIn: opts.expiresInSeconds, signableHeaders: new Set(['content-type']) })
    },
    destroy() {
      client.destroy()
    },
  }
}
