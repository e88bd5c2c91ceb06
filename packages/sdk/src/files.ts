// A test's files from a client: hash each file (SHA-256, Web Crypto), ask the API which blobs
// the project does not have yet (`files.missing`) and upload only those (`POST /files`, the raw
// bytes). What comes back are the `{ path, sha256 }` references that tests.create/update,
// runs.start and scripts.validate take. Works in Node (≥ 20) and in browsers: no Node built-ins.
import { checkFilePath, checkFileSet, type FileCaps } from '@stampede/shared/files'
import { StampedeApiError, StampedeConnectionError, StampedeError } from './errors.ts'

/** A file to upload: its path relative to the test's script, and its bytes. */
export interface FileUpload {
  path: string
  content: Uint8Array
}

/** A file as tests.create/update and runs.start take it. */
export interface FileRef {
  path: string
  sha256: string
}

export interface UploadFilesInput {
  /** The project the files belong to; optional when the caller belongs to exactly one. */
  projectId?: string | undefined
  files: readonly FileUpload[]
}

export interface UploadFilesResult {
  /** Every file, in the order given, with its stored path and hash. */
  refs: FileRef[]
  /** The files whose bytes this call sent; the others were already stored (same bytes, same project). */
  uploaded: { path: string; size: number }[]
}

export interface UploadFileOptions {
  /** The project; optional when the caller belongs to exactly one. */
  projectId?: string | undefined
  /** The bytes' SHA-256 (lowercase hex); when given, the API refuses bytes that do not match. */
  sha256?: string | undefined
  signal?: AbortSignal | undefined
}

/** What the API answers for a stored file. */
export interface StoredFile {
  sha256: string
  size: number
}

/**
 * What uploadFiles needs of a client: `files.missing` and the upload route. A StampedeClient is
 * one; a test can hand in a stand-in.
 */
export interface FilesApi {
  files: {
    missing: { mutate(input: { projectId?: string; sha256: string[] }): Promise<{ missing: string[] }> }
  }
  uploadFile(content: Uint8Array, opts?: UploadFileOptions): Promise<StoredFile>
}

/** The SHA-256 of `bytes` in lowercase hex, as the API names stored files. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle
  if (!subtle) throw new StampedeError('hashing files needs Web Crypto (crypto.subtle): Node 20 or later, or a browser page served over https or from localhost')
  const digest = new Uint8Array(await subtle.digest('SHA-256', ownBuffer(bytes)))
  let hex = ''
  for (const b of digest) hex += b.toString(16).padStart(2, '0')
  return hex
}

/** `bytes` on an ArrayBuffer of its own kind (Web Crypto and fetch bodies take no SharedArrayBuffer views). */
const ownBuffer = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => (bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes))

const CODE_OF_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
}

/** Where the client sends an upload: the API's base URL, its headers (token, client name) and fetch. */
export interface UploadTarget {
  url: string
  headers: Record<string, string>
  fetch: typeof fetch
}

/**
 * `POST <url>/files?projectId=…&sha256=…` with the raw bytes: stores one file (or a k6 archive)
 * in the project. Rejects with StampedeApiError (the API's message and code) when refused, and
 * with StampedeConnectionError when there is no answer.
 */
export async function uploadFileTo(target: UploadTarget, content: Uint8Array, opts: UploadFileOptions = {}): Promise<StoredFile> {
  const query = new URLSearchParams()
  if (opts.projectId !== undefined) query.set('projectId', opts.projectId)
  if (opts.sha256 !== undefined) query.set('sha256', opts.sha256)
  const where = `${target.url}/files${query.size > 0 ? `?${query}` : ''}`
  let res: Response
  try {
    res = await target.fetch(where, {
      method: 'POST',
      headers: { ...target.headers, 'content-type': 'application/octet-stream' },
      body: ownBuffer(content),
      ...(opts.signal ? { signal: opts.signal } : {}),
    })
  } catch (err) {
    if (opts.signal?.aborted) throw err
    const cause = err instanceof Error ? err : undefined
    const detail = cause?.cause instanceof Error ? `${cause.message}: ${cause.cause.message}` : (cause?.message ?? String(err))
    throw new StampedeConnectionError(`cannot reach the Stampede API at ${target.url} (POST /files): ${detail}`, target.url, { cause: err })
  }
  const text = await res.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (res.ok) {
    const stored = body as Partial<StoredFile> | undefined
    if (typeof stored?.sha256 !== 'string' || typeof stored.size !== 'number') throw new StampedeError(`the Stampede API at ${target.url} answered POST /files with ${text.slice(0, 200)}, not { sha256, size }`)
    return { sha256: stored.sha256, size: stored.size }
  }
  const error = (body as { error?: { message?: unknown; code?: unknown } } | undefined)?.error
  const code = typeof error?.code === 'string' ? error.code : (CODE_OF_STATUS[res.status] ?? 'INTERNAL_SERVER_ERROR')
  const message = typeof error?.message === 'string'
    ? error.message
    : res.status === 404
      ? `the Stampede API at ${target.url} has no file upload (POST /files): it predates test files; upgrade the API, or run the script without files`
      : `POST /files answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`
  throw new StampedeApiError(message, code, res.status, 'POST /files')
}

/** How many uploads run at once. */
const UPLOAD_CONCURRENCY = 4

const NO_CAPS: FileCaps = { maxFileBytes: Infinity, maxTotalBytes: Infinity, maxFiles: Infinity }

/**
 * Uploads a test's files: checks their paths (checkFilePath) and the set (checkFileSet) first, hashes each, asks `files.missing` which the project lacks and
 * sends only those, one upload per distinct content. Rejects with a StampedeError naming
 * every bad path, or with the API's error for a refused upload.
 */
export async function uploadFiles(client: FilesApi, input: UploadFilesInput): Promise<UploadFilesResult> {
  const problems: string[] = []
  const checked = input.files.map((f, i) => {
    const c = checkFilePath(f.path)
    if (!c.ok) problems.push(`files[${i}].path: ${c.message}`)
    return { path: c.ok ? c.path : f.path, content: f.content }
  })
  if (problems.length === 0) {
    // Names given twice, or as both a file and a folder. The size and count caps are the
    // platform's own (configurable); the API applies them with its numbers in the message.
    for (const p of checkFileSet(checked.map((f) => ({ path: f.path, size: f.content.byteLength })), NO_CAPS)) problems.push(p.message)
  }
  if (problems.length > 0) throw new StampedeError(problems.join('\n'))

  const stored = await uploadContents(client, { projectId: input.projectId, contents: checked.map((f) => f.content) })
  const refs = checked.map((f, i) => ({ path: f.path, sha256: stored[i]!.sha256 }))
  const uploaded = checked.filter((_f, i) => stored[i]!.uploaded).map((f) => ({ path: f.path, size: f.content.byteLength }))
  return { refs, uploaded }
}

/**
 * The core of every upload: hashes each content, asks `files.missing` which the project lacks and
 * sends only those, once per distinct content, a few at a time. Answers each content's hash and
 * size, in order, and whether this call sent it (false: already stored, or sent for an earlier
 * equal content).
 */
export async function uploadContents(client: FilesApi, input: { projectId?: string | undefined; contents: readonly Uint8Array[] }): Promise<{ sha256: string; size: number; uploaded: boolean }[]> {
  const hashed = await Promise.all(input.contents.map(async (content) => ({ content, sha256: await sha256Hex(content), uploaded: false })))
  if (hashed.length === 0) return []
  const project = input.projectId === undefined ? {} : { projectId: input.projectId }
  const distinct = [...new Set(hashed.map((h) => h.sha256))]
  const { missing } = await client.files.missing.mutate({ ...project, sha256: distinct })
  const wanted = new Set(missing)
  // One upload per missing content, carried by the first that has it.
  const toSend = hashed.filter((h, i) => wanted.has(h.sha256) && hashed.findIndex((o) => o.sha256 === h.sha256) === i)
  let next = 0
  const worker = async () => {
    while (next < toSend.length) {
      const h = toSend[next++]!
      const stored = await client.uploadFile(h.content, { ...project, sha256: h.sha256 })
      if (stored.sha256 !== h.sha256) {
        throw new StampedeError(`the API stored an upload as sha256 ${stored.sha256}, but its bytes hash to ${h.sha256}; the upload was altered on the way. Try again.`)
      }
      h.uploaded = true
    }
  }
  await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, toSend.length) }, worker))
  return hashed.map((h) => ({ sha256: h.sha256, size: h.content.byteLength, uploaded: h.uploaded }))
}

/** Uploads one blob (a k6 archive) the same way: only when the project lacks it. Resolves with its sha256. */
export async function uploadBlob(client: FilesApi, input: { projectId?: string | undefined; content: Uint8Array }): Promise<{ sha256: string; size: number; uploaded: boolean }> {
  return (await uploadContents(client, { projectId: input.projectId, contents: [input.content] }))[0]!
}
