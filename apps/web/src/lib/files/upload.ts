// Uploading a test's files from the browser: each file's SHA-256 (Web Crypto), `files.missing`
// for which of them the project lacks, and `POST /files` with the raw bytes for only those. The
// upload route is plain HTTP, not tRPC, so it is called with fetch here: the session cookie and
// the CSRF token, like every change the web makes.
import { uploadContents as sdkUploadContents, type FilesApi } from '@stampede/sdk/files'
import { api, apiBaseUrl, changeHeaders, reportSessionEnded } from '../api/client.ts'

/** A file as tests and runs take it. */
export interface FileRef {
  path: string
  sha256: string
}

/** A stored file as the API lists it. */
export interface StoredFile extends FileRef {
  size: number
}

/** The API's refusal of an upload, with its message as it came. */
export class UploadError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message)
    this.name = 'UploadError'
  }
}

/** `POST /files`: stores `bytes` in the project and answers their hash and size (checked against `sha256` when given). */
export async function uploadBytes(projectId: string, bytes: Uint8Array, sha256: string): Promise<{ sha256: string; size: number }> {
  const base = apiBaseUrl()
  const query = new URLSearchParams({ projectId, ...(sha256 ? { sha256 } : {}) })
  let res: Response
  try {
    res = await fetch(`${base}/files?${query}`, {
      method: 'POST',
      credentials: 'include',
      headers: { ...changeHeaders(), 'content-type': 'application/octet-stream' },
      body: bytes as Uint8Array<ArrayBuffer>,
    })
  } catch (err) {
    throw new Error(`cannot reach the API at ${base} to upload (${err instanceof Error ? err.message : String(err)})`)
  }
  const text = await res.text()
  let body: { sha256?: unknown; size?: unknown; error?: { message?: unknown; code?: unknown } } | undefined
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (res.ok && typeof body?.sha256 === 'string' && typeof body.size === 'number') return { sha256: body.sha256, size: body.size }
  if (res.status === 401) reportSessionEnded()
  const message = typeof body?.error?.message === 'string' ? body.error.message : `the upload was answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`
  throw new UploadError(message, res.status, typeof body?.error?.code === 'string' ? body.error.code : undefined)
}

/**
 * Uploads the contents the project does not have yet and answers each one's hash, in order
 * (the SDK's uploadContents: one upload per distinct content, only what the project lacks, over
 * this session's upload route).
 */
export async function uploadContents(projectId: string, contents: readonly Uint8Array[]): Promise<{ sha256: string; size: number }[]> {
  const client: FilesApi = {
    files: { missing: { mutate: (input) => api.files.missing.mutate({ ...input, projectId }) } },
    uploadFile: (content, opts) => uploadBytes(projectId, content, opts?.sha256 ?? ''),
  }
  return (await sdkUploadContents(client, { projectId, contents })).map(({ sha256, size }) => ({ sha256, size }))
}

/** A stored file's bytes (files.read: up to 2 MB). */
export async function readStoredFile(projectId: string, sha256: string, signal?: AbortSignal): Promise<Uint8Array> {
  const { content } = await api.files.read.query({ projectId, sha256 }, signal ? { signal } : undefined)
  const binary = atob(content)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}
