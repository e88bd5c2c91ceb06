// The SDK's file helpers: against an in-memory stand-in for files.missing and the upload, hashes
// match Node's, only missing blobs are sent (once per content), bad paths are refused up front;
// and the client's upload (POST /files) against a fake fetch: what it sends, how refusals read.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createStampedeClient } from './client.ts'
import { StampedeApiError, StampedeConnectionError, StampedeError } from './errors.ts'
import { sha256Hex, uploadBlob, uploadFiles, type FilesApi, type UploadFileOptions } from './files.ts'

const bytes = (s: string) => new TextEncoder().encode(s)
const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

function fakeApi(stored: Iterable<string> = []) {
  const blobs = new Set(stored)
  const calls: { missing: { projectId?: string; sha256: string[] }[]; upload: { content: Buffer; opts: UploadFileOptions | undefined }[] } = { missing: [], upload: [] }
  const api: FilesApi = {
    files: {
      missing: {
        mutate: async (input) => {
          calls.missing.push(input)
          return { missing: input.sha256.filter((s) => !blobs.has(s)) }
        },
      },
    },
    uploadFile: async (bytes, opts) => {
      const content = Buffer.from(bytes)
      calls.upload.push({ content, opts })
      const sha256 = nodeSha(content)
      blobs.add(sha256)
      return { sha256, size: content.byteLength }
    },
  }
  return { api, calls, blobs }
}

describe('sha256Hex', () => {
  it('is the lowercase hex SHA-256 of the bytes', async () => {
    expect(await sha256Hex(new Uint8Array())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    const b = bytes('hello, stampede')
    expect(await sha256Hex(b)).toBe(nodeSha(b))
    // A view into a larger buffer hashes only its own bytes.
    const big = bytes('xxhello, stampedeyy')
    expect(await sha256Hex(big.subarray(2, big.length - 2))).toBe(nodeSha(b))
  })
})

describe('uploadFiles', () => {
  it('uploads only what the project lacks, once per content, and returns every ref in order', async () => {
    const users = bytes('[{"name":"a"}]')
    const helper = bytes('export const x = 1')
    const { api, calls } = fakeApi([nodeSha(helper)])
    const result = await uploadFiles(api, {
      projectId: 'p1',
      files: [
        { path: './data/users.json', content: users },
        { path: 'lib/helper.js', content: helper },
        { path: 'data/copy.json', content: users },
      ],
    })
    expect(result.refs).toEqual([
      { path: 'data/users.json', sha256: nodeSha(users) },
      { path: 'lib/helper.js', sha256: nodeSha(helper) },
      { path: 'data/copy.json', sha256: nodeSha(users) },
    ])
    expect(result.uploaded).toEqual([{ path: 'data/users.json', size: users.byteLength }])
    expect(calls.missing).toEqual([{ projectId: 'p1', sha256: [nodeSha(users), nodeSha(helper)] }])
    expect(calls.upload).toEqual([{ content: Buffer.from(users), opts: { projectId: 'p1', sha256: nodeSha(users) } }])
  })

  it('sends nothing when everything is stored, and makes no call for no files', async () => {
    const a = bytes('a')
    const { api, calls } = fakeApi([nodeSha(a)])
    expect((await uploadFiles(api, { files: [{ path: 'a.txt', content: a }] })).uploaded).toEqual([])
    expect(calls.missing).toEqual([{ sha256: [nodeSha(a)] }])
    expect(calls.upload).toEqual([])
    const empty = fakeApi()
    expect(await uploadFiles(empty.api, { files: [] })).toEqual({ refs: [], uploaded: [] })
    expect(empty.calls.missing).toEqual([])
  })

  it('uploads many missing files, a few at a time, reporting them in the order given', async () => {
    const files = Array.from({ length: 9 }, (_, i) => ({ path: `d/${i}.txt`, content: bytes(`file ${i}`) }))
    const { api, calls } = fakeApi()
    const result = await uploadFiles(api, { files })
    expect(result.uploaded.map((u) => u.path)).toEqual(files.map((f) => f.path))
    expect(calls.upload).toHaveLength(9)
  })

  it('refuses bad paths and duplicate names before any call, naming each', async () => {
    const { api, calls } = fakeApi()
    const err = await uploadFiles(api, {
      files: [
        { path: '../secret.txt', content: bytes('x') },
        { path: '/etc/passwd', content: bytes('x') },
      ],
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StampedeError)
    expect((err as Error).message).toMatch(/files\[0\]\.path: .*climbs out/)
    expect((err as Error).message).toMatch(/files\[1\]\.path: .*absolute/)
    const dup = await uploadFiles(api, {
      files: [
        { path: 'a.txt', content: bytes('1') },
        { path: './a.txt', content: bytes('2') },
      ],
    }).catch((e: unknown) => e)
    expect((dup as Error).message).toMatch(/a\.txt is given twice/)
    expect(calls.missing).toEqual([])
  })

  it('refuses an upload the API stored under another hash', async () => {
    const { api } = fakeApi()
    api.uploadFile = async () => ({ sha256: '0'.repeat(64), size: 1 })
    await expect(uploadFiles(api, { files: [{ path: 'a.txt', content: bytes('a') }] })).rejects.toThrow(/altered on the way/)
  })
})

describe('uploadBlob', () => {
  it('uploads an archive once; the second time it is already stored', async () => {
    const tar = new Uint8Array([1, 2, 3, 4])
    const { api, calls } = fakeApi()
    expect(await uploadBlob(api, { content: tar })).toEqual({ sha256: nodeSha(tar), size: 4, uploaded: true })
    expect(await uploadBlob(api, { content: tar })).toEqual({ sha256: nodeSha(tar), size: 4, uploaded: false })
    expect(calls.upload).toHaveLength(1)
  })
})

describe('client.uploadFile', () => {
  /** A client on a fake fetch that answers meta.version and POST /files as `answer` says. */
  function clientWith(answer: (req: Request, body: Buffer) => Response | Promise<Response>) {
    const uploads: { url: string; headers: Headers; body: Buffer }[] = []
    const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
      const req = new Request(input, init)
      if (new URL(req.url).pathname === '/trpc/meta.version') return Response.json({ result: { data: { version: '0.1.0', apiCompat: 1 } } })
      const body = Buffer.from(await req.arrayBuffer())
      uploads.push({ url: req.url, headers: req.headers, body })
      return answer(req, body)
    }) as typeof fetch
    const client = createStampedeClient({ url: 'http://api.test/', token: 'stp_x', fetch: fetchImpl, versionCheck: false, client: 'cli' })
    return { client, uploads }
  }

  it('posts the raw bytes to /files with the token, the project and the hash', async () => {
    const content = new Uint8Array([0, 1, 2, 250, 255])
    const { client, uploads } = clientWith((_req, body) => Response.json({ sha256: nodeSha(body), size: body.byteLength }))
    expect(await client.uploadFile(content, { projectId: 'p1', sha256: nodeSha(content) })).toEqual({ sha256: nodeSha(content), size: 5 })
    expect(uploads).toHaveLength(1)
    expect(uploads[0]!.url).toBe(`http://api.test/files?projectId=p1&sha256=${nodeSha(content)}`)
    expect(uploads[0]!.headers.get('authorization')).toBe('Bearer stp_x')
    expect(uploads[0]!.headers.get('x-stampede-client')).toBe('cli')
    expect(uploads[0]!.headers.get('content-type')).toBe('application/octet-stream')
    expect(uploads[0]!.body.equals(Buffer.from(content))).toBe(true)
    await client.uploadFile(content)
    expect(uploads[1]!.url).toBe('http://api.test/files')
  })

  it('rejects with the API\'s message and code when refused, and says so for an API without uploads', async () => {
    const tooLarge = clientWith(() => Response.json({ error: { message: 'the file is larger than the 50 MB a test\'s files may add up to', code: 'PAYLOAD_TOO_LARGE' } }, { status: 413 }))
    const err = await tooLarge.client.uploadFile(new Uint8Array([1])).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StampedeApiError)
    expect(err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, path: 'POST /files', message: expect.stringContaining('50 MB') })
    const old = clientWith(() => Response.json({ message: 'Route POST:/files not found', error: 'Not Found', statusCode: 404 }, { status: 404 }))
    await expect(old.client.uploadFile(new Uint8Array([1]))).rejects.toThrow(/has no file upload \(POST \/files\): it predates test files/)
  })

  it('rejects with StampedeConnectionError when the API does not answer', async () => {
    const fetchImpl = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') })
    }) as typeof fetch
    const client = createStampedeClient({ url: 'http://127.0.0.1:9', fetch: fetchImpl, versionCheck: false })
    const err = await client.uploadFile(new Uint8Array([1])).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StampedeConnectionError)
    expect((err as Error).message).toBe('cannot reach the Stampede API at http://127.0.0.1:9 (POST /files): fetch failed: connect ECONNREFUSED 127.0.0.1:9')
  })
})

describe('runScript with files or an archive', () => {
  /** A console socket that ends at once, as for a run that has already finished. */
  class EndingSocket {
    readyState = 0
    onopen: ((event: unknown) => void) | null = null
    onmessage: ((event: { data: unknown }) => void) | null = null
    onclose: ((event: { code: number; reason: string }) => void) | null = null
    onerror: ((event: unknown) => void) | null = null
    constructor() {
      setTimeout(() => {
        this.readyState = 1
        this.onopen?.({})
        this.onmessage?.({ data: JSON.stringify({ type: 'end', status: 'passed', lastSeq: 0 }) })
        this.readyState = 3
        this.onclose?.({ code: 1000, reason: '' })
      }, 0)
    }
    close() {}
  }

  function fakeApi(stored: Set<string>) {
    const calls: { what: string; input: unknown }[] = []
    const run = { id: 'run-1', status: 'queued', waitingForRunner: false }
    const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
      const req = new Request(input, init)
      const u = new URL(req.url)
      const body = Buffer.from(await req.arrayBuffer())
      if (u.pathname === '/files') {
        calls.push({ what: 'POST /files', input: Object.fromEntries(u.searchParams) })
        stored.add(nodeSha(body))
        return Response.json({ sha256: nodeSha(body), size: body.byteLength })
      }
      const procedure = u.pathname.replace('/trpc/', '')
      const given = req.method === 'POST' ? (JSON.parse(body.toString()) as { sha256?: string[] }) : JSON.parse(u.searchParams.get('input') ?? '{}')
      calls.push({ what: procedure, input: given })
      const data =
        procedure === 'files.missing' ? { missing: (given.sha256 ?? []).filter((s: string) => !stored.has(s)) }
        : procedure === 'runs.byId' ? { ...run, status: 'passed' }
        : run
      return Response.json({ result: { data } })
    }) as typeof fetch
    const client = createStampedeClient({ url: 'http://api.test', fetch: fetchImpl, versionCheck: false, WebSocket: EndingSocket })
    return { client, calls }
  }

  it('uploads the files the project lacks and starts the script with every ref', async () => {
    const data = bytes('a,b\n1,2\n')
    const { client, calls } = fakeApi(new Set())
    const run = await client.runScript({ script: 'export default function () {}', location: 'local', files: [{ path: './data/x.csv', content: data }, { path: 'lib/h.js', sha256: 'a'.repeat(64) }] })
    expect(run.status).toBe('passed')
    expect(calls.map((c) => c.what)).toEqual(['files.missing', 'POST /files', 'runs.start', 'runs.byId'])
    expect(calls[2]!.input).toEqual({
      script: 'export default function () {}',
      location: 'local',
      files: [
        { path: 'data/x.csv', sha256: nodeSha(data) },
        { path: 'lib/h.js', sha256: 'a'.repeat(64) },
      ],
    })
  })

  it('uploads an archive unless the project has it, and starts it', async () => {
    const tar = new Uint8Array(1024)
    const { client, calls } = fakeApi(new Set([nodeSha(tar)]))
    await client.runScript({ archive: tar, location: 'local' })
    expect(calls.map((c) => c.what)).toEqual(['files.missing', 'runs.start', 'runs.byId'])
    expect(calls[1]!.input).toEqual({ archive: nodeSha(tar), location: 'local' })
  })
})
