// A project's stored files, by content hash. Uploading is POST /files (files/upload.ts: the
// caller is checked before a large body is read); here, which hashes a client still has to
// upload, and the bytes of one file for the web's editor and preview.
import { TRPCError } from '@trpc/server'
import { fileMissingInput, fileReadInput } from '@stampede/shared'
import { formatFileSize } from '@stampede/shared/files'
import { projectProcedure, router } from '../trpc.ts'
import { blobReader, missingBlobs } from '../files/store.ts'

/** The largest file files.read returns (the web edits and previews text files; bigger ones are downloaded with the run). */
export const MAX_READ_BYTES = 2 * 1024 * 1024

export const filesRouter = router({
  /**
   * The hashes the project has not stored yet: upload only these. A mutation (sent as POST) only
   * because a test's list of hashes does not fit in a URL; it changes nothing.
   */
  missing: projectProcedure('write').input(fileMissingInput).mutation(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    return { missing: await missingBlobs(ctx, projectId, input.sha256) }
  }),
  /** One stored file's bytes (base64), up to MAX_READ_BYTES. */
  read: projectProcedure('read').input(fileReadInput).query(async ({ ctx, input }) => {
    const projectId = await ctx.access.project(input.projectId)
    const blob = await ctx.db.fileBlob.findUnique({ where: { projectId_sha256: { projectId, sha256: input.sha256 } }, select: { size: true } })
    if (!blob) throw new TRPCError({ code: 'NOT_FOUND', message: `sha256: no file with SHA-256 ${input.sha256} in this project` })
    if (blob.size > MAX_READ_BYTES) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: `sha256: the file is ${formatFileSize(blob.size)}; files.read returns files up to ${formatFileSize(MAX_READ_BYTES)} (for editing and preview)` })
    }
    const bytes = await blobReader(ctx, projectId)(input.sha256)
    return { sha256: input.sha256, size: blob.size, content: Buffer.from(bytes).toString('base64') }
  }),
})
