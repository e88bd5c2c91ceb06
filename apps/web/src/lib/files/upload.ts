// Uploading a test's files from the browser: each file's SHA-256 (Web Crypto), `files.missing`
// for which of them the project lacks, and `POST /files` with the raw bytes for only those. The
// upload route is plain HTTP, not tRPC: the SDK's upload over fetch with the session cookie and
// the CSRF token, like every change the web makes.
import { uploadContents as sdkUploadContents, uploadFileTo, type FilesApi } from '@stampede/sdk/files'
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

/** fetch with the session cookie; a 401 tells the session store the session ended. */
const sessionFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, { ...init, credentials: 'include' })
  if (res.status === 401) reportSessionEnded()
  return res
}

/**
 * `POST /files` (the SDK's uploadFileTo, with this session's cookie and CSRF token): stores
 * `bytes` in the project and answers their hash and size (checked against `sha256` when given).
 * Refused uploads reject with the API's message.
 */
export function uploadBytes(projectId: string, bytes: Uint8Array, sha256: string): Promise<{ sha256: string; size: number }> {
  return uploadFileTo({ url: apiBaseUrl(), headers: changeHeaders(), fetch: sessionFetch }, bytes, { projectId, ...(sha256 ? { sha256 } : {}) })
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
