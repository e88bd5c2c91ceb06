import path from 'node:path'
import os from 'node:os'
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterEach, describe, expect, it } from 'vitest'
import { startEmbeddedS3 } from './s3.ts'
import type { EmbeddedS3 } from './s3.ts'

const running: EmbeddedS3[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()))
})

function clientFor(s3: EmbeddedS3): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    forcePathStyle: true,
    // Without these a streamed body is stored with aws-chunked framing by s3rver.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

async function getBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return Buffer.from(await res.Body!.transformToByteArray())
}

describe('embedded S3', () => {
  it('round-trips 1 MiB byte-exact from a Buffer and from a file stream', { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-s3-'))
    const s3 = await startEmbeddedS3({ dir: path.join(dir, 'data'), bucket: 'artifacts' })
    running.push(s3)
    expect(s3).toMatchObject({ bucket: 'artifacts', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const client = clientFor(s3)
    const data = randomBytes(1024 * 1024)

    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'runs/1/buffer.bin', Body: data }))
    expect((await getBytes(client, s3.bucket, 'runs/1/buffer.bin')).equals(data)).toBe(true)

    const file = path.join(dir, 'upload.bin')
    await writeFile(file, data)
    await client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: 'runs/1/stream.bin', Body: createReadStream(file), ContentLength: data.length }),
    )
    expect((await getBytes(client, s3.bucket, 'runs/1/stream.bin')).equals(data)).toBe(true)
    client.destroy()
  })

  it("listens on the host it is given, such as the platform's reserved loopback address, and nowhere else", { timeout: 30_000 }, async () => {
    const s3 = await startEmbeddedS3({ dir: await mkdtemp(path.join(os.tmpdir(), 'stampede-s3-')), host: '127.77.0.1', bucket: 'artifacts' })
    running.push(s3)
    expect(s3.endpoint).toMatch(/^http:\/\/127\.77\.0\.1:\d+$/)
    const client = clientFor(s3)
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'k', Body: 'on the platform address' }))
    expect((await getBytes(client, s3.bucket, 'k')).toString()).toBe('on the platform address')
    client.destroy()
    const port = Number(new URL(s3.endpoint).port)
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow()
  })

  it('refuses a host that is not an IP address, naming the option', async () => {
    await expect(startEmbeddedS3({ dir: os.tmpdir(), host: 'localhost', bucket: 'b' })).rejects.toThrow(
      'host: "localhost" is not an IP address; give the address the embedded S3 server should listen on, such as 127.77.0.1',
    )
  })

  it('accepts a custom key pair and rejects an unknown access key id', { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-s3-'))
    const s3 = await startEmbeddedS3({ dir, bucket: 'b', accessKeyId: 'stampede', secretAccessKey: 'sekret-123' })
    running.push(s3)
    const good = clientFor(s3)
    await good.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'hello' }))
    expect((await getBytes(good, 'b', 'k')).toString()).toBe('hello')
    // s3rver checks that the key id is registered; it does not verify SigV4 signatures.
    const bad = clientFor({ ...s3, accessKeyId: 'someone-else' })
    await expect(bad.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }))).rejects.toThrow(/Access Key Id/i)
    good.destroy()
    bad.destroy()
  })
})
