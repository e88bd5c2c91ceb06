// A project's stored files: bytes kept once per content in S3 (files/<projectId>/<sha256>) and
// listed in file_blobs, named by tests and runs through their hashes. Here: storing uploaded
// bytes, turning a caller's { path, sha256 } list into the stored files it names (every blob
// uploaded to the project, the caps held), reading an uploaded k6 archive, and reading bytes back
// for validation (a small cache: the playground validates the same files again and again).
import { createHash } from 'node:crypto'
import { TRPCError } from '@trpc/server'
import { LRUCache } from 'lru-cache'
import { checkFileSet, fileBlobKey, formatFileSize, type FileCaps, type StoredArchive, type StoredFile } from '@stampede/shared/files'
import type { FileRefs } from '@stampede/shared'
import type { FileReader } from '@stampede/runs'
import type { Services } from '../context.ts'
import { readK6Archive, type K6ArchiveSummary } from './archive.ts'

/** The bytes of recently used blobs, by project and hash: validation reads the same files again and again. */
const CACHE_BYTES = 64 * 1024 * 1024
const cache = new LRUCache<string, Uint8Array>({ maxSize: CACHE_BYTES, sizeCalculation: (b) => Math.max(1, b.byteLength), maxEntrySize: 16 * 1024 * 1024 })

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/**
 * Stores `bytes` as one of the project's files (once per content) and answers its hash and size.
 * `expected`, when given, must be the bytes' SHA-256 (the client's own, so a damaged upload is refused).
 */
export async function storeBlob(services: Pick<Services, 'db' | 'storage'>, projectId: string, bytes: Buffer, expected?: string): Promise<{ sha256: string; size: number }> {
  const sha256 = sha256Hex(bytes)
  if (expected !== undefined && expected !== sha256) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `the upload's SHA-256 is ${sha256}, not the ${expected} it was sent with: the bytes changed on the way; upload the file again` })
  }
  const known = await services.db.fileBlob.findUnique({ where: { projectId_sha256: { projectId, sha256 } }, select: { size: true } })
  if (!known) {
    // Stored first, listed second: a listed blob is always in S3.
    await services.storage.putBytes(fileBlobKey(projectId, sha256), bytes, 'application/octet-stream')
    await services.db.fileBlob.upsert({ where: { projectId_sha256: { projectId, sha256 } }, create: { projectId, sha256, size: bytes.length }, update: {} })
  }
  return { sha256, size: bytes.length }
}

/** Which of `hashes` the project has not stored. */
export async function missingBlobs(services: Pick<Services, 'db'>, projectId: string, hashes: readonly string[]): Promise<string[]> {
  const unique = [...new Set(hashes)]
  const found = await services.db.fileBlob.findMany({ where: { projectId, sha256: { in: unique } }, select: { sha256: true } })
  const have = new Set(found.map((b) => b.sha256))
  return unique.filter((h) => !have.has(h))
}

const short = (sha256: string) => `${sha256.slice(0, 12)}…`

/**
 * The stored files a caller's list names, sorted by path: every blob must be the project's, and
 * the set must hold the caps. Refuses with every problem listed, each naming its file.
 */
export async function resolveFileRefs(services: Pick<Services, 'db' | 'config'>, projectId: string, refs: FileRefs): Promise<StoredFile[]> {
  if (refs.length === 0) return []
  const blobs = await services.db.fileBlob.findMany({ where: { projectId, sha256: { in: [...new Set(refs.map((r) => r.sha256))] } }, select: { sha256: true, size: true } })
  const sizes = new Map(blobs.map((b) => [b.sha256, b.size]))
  const missing = refs.filter((r) => !sizes.has(r.sha256))
  if (missing.length > 0) {
    const names = missing.slice(0, 10).map((r) => `${r.path} (SHA-256 ${short(r.sha256)})`).join(', ')
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `files: ${names}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''} ${missing.length === 1 ? 'was' : 'were'} not uploaded to this project; upload ${missing.length === 1 ? 'it' : 'them'} first (POST /files, or the SDK's uploadFiles)`,
    })
  }
  const files = refs.map((r) => ({ path: r.path, sha256: r.sha256, size: sizes.get(r.sha256)! })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  assertCaps(files, services.config.files)
  return files
}

function assertCaps(files: readonly StoredFile[], caps: FileCaps): void {
  const problems = checkFileSet(files, caps)
  if (problems.length > 0) throw new TRPCError({ code: 'BAD_REQUEST', message: `files: ${problems.map((p) => p.message).join(' ')}` })
}

/** A project's stored bytes by hash, for validation (cached). */
export function blobReader(services: Pick<Services, 'storage'>, projectId: string): FileReader {
  return async (sha256) => {
    const key = fileBlobKey(projectId, sha256)
    const hit = cache.get(key)
    if (hit) return hit
    const bytes = await services.storage.getBytes(key)
    cache.set(key, bytes)
    return bytes
  }
}

/** An uploaded k6 archive, checked: its blob, and what it holds (the entry script, its files). */
export interface CheckedArchive {
  archive: StoredArchive
  summary: K6ArchiveSummary
}

/** Reads and checks an archive the project uploaded; refuses one that is missing or not a k6 archive k6 could run safely. */
export async function resolveArchive(services: Pick<Services, 'db' | 'config' | 'storage'>, projectId: string, sha256: string): Promise<CheckedArchive> {
  const blob = await services.db.fileBlob.findUnique({ where: { projectId_sha256: { projectId, sha256 } }, select: { size: true } })
  if (!blob) throw new TRPCError({ code: 'BAD_REQUEST', message: `archive: no upload with SHA-256 ${short(sha256)} in this project; upload the .tar that \`k6 archive\` wrote first (POST /files)` })
  const caps = services.config.files
  if (blob.size > caps.maxTotalBytes) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `archive: it is ${formatFileSize(blob.size)}; a test's files may add up to at most ${formatFileSize(caps.maxTotalBytes)}` })
  }
  const checked = await readK6Archive(await blobReader(services, projectId)(sha256), caps)
  if (!checked.ok) throw new TRPCError({ code: 'BAD_REQUEST', message: `archive: ${checked.problems.join(' ')}` })
  return { archive: { sha256, size: blob.size }, summary: checked.archive }
}
