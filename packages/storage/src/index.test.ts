// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- s3rver ships no types
/// <reference path="../../../types/s3rver.d.ts" />
// Storage against a real S3-compatible server (s3rver): uploads from disk must come back
// byte-exact (streamed bodies are where S3-compatible servers corrupt data).
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import S3rver from 's3rver'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ArtifactNotFoundError, createStorage, type Storage } from './index.ts'

let dir: string
let server: S3rver
let storage: Storage

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'storage-test-'))
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(dir, 's3') })
  const address = (await server.run()) as AddressInfo
  storage = createStorage({
    endpoint: `http://127.0.0.1:${address.port}`,
    region: 'us-east-1',
    bucket: 'artifacts',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
  })
  await storage.ensureBucket()
})

afterAll(async () => {
  storage?.destroy()
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('storage', () => {
  it('uploads a file byte-exact and reports its size and sha256', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17)
    const file = path.join(dir, 'blob.bin')
    await writeFile(file, bytes)
    const stored = await storage.putFile('runs/x/blob.bin', file, 'application/octet-stream')
    expect(stored).toEqual({ key: 'runs/x/blob.bin', bytes: bytes.length, sha256: sha(bytes) })
    const back = await storage.getBytes('runs/x/blob.bin')
    expect(sha(back)).toBe(sha(bytes))
    expect(await storage.exists('runs/x/blob.bin')).toBe(true)
  })

  it('serves an object through a presigned GET link', async () => {
    await storage.putBytes('runs/x/summary.json', '{"ok":true}', 'application/json')
    const url = await storage.presignGet('runs/x/summary.json', { expiresInSeconds: 60, downloadName: 'summary.json' })
    const res = await fetch(url)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('{"ok":true}')
  })

  it('takes a PUT through a presigned link signed for that one key and content type', async () => {
    const bytes = randomBytes(200_000)
    const url = await storage.presignPut('runs/y/metrics.json.gz', { expiresInSeconds: 60, contentType: 'application/gzip' })
    expect(url).not.toContain('S3RVER&')
    const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/gzip' }, body: bytes })
    expect(put.status).toBe(200)
    expect(sha(await storage.getBytes('runs/y/metrics.json.gz'))).toBe(sha(bytes))
    // The signature covers this key, its content type and the expiry (s3rver does not check
    // signatures, so their scope is read from the URL; S3 itself refuses anything else).
    const signed = new URL(url)
    expect(signed.pathname).toBe('/artifacts/runs/y/metrics.json.gz')
    expect(signed.searchParams.get('X-Amz-Expires')).toBe('60')
    expect(signed.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['content-type', 'host'])
    expect(signed.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)
  })

  it('streams an object with its length and content type', async () => {
    await storage.putBytes('runs/x/log.txt', 'a\nb\n', 'text/plain')
    const { body, bytes, contentType } = await storage.getStream('runs/x/log.txt')
    const chunks: Buffer[] = []
    for await (const chunk of body) chunks.push(chunk as Buffer)
    expect(Buffer.concat(chunks).toString()).toBe('a\nb\n')
    expect(bytes).toBe(4)
    expect(contentType).toBe('text/plain')
  })

  it('says which key is missing', async () => {
    expect(await storage.exists('runs/none/summary.json')).toBe(false)
    await expect(storage.getBytes('runs/none/summary.json')).rejects.toBeInstanceOf(ArtifactNotFoundError)
    await expect(storage.getStream('runs/none/summary.json')).rejects.toThrow('artifact runs/none/summary.json does not exist')
  })
})
