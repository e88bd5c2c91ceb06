// POST /files?projectId=<id>&sha256=<hex>: uploads one of a project's files (or a k6 archive) as
// the raw request body, and answers { sha256, size }. A plain HTTP route rather than a tRPC
// procedure so that the caller is checked before the body is read: tRPC parses the whole body
// before any middleware runs, and a file may be tens of megabytes, so any caller (signed in or
// not) could make the API buffer that much per request. Here the credentials, the write
// permission on the project and the token's rate are checked in onRequest; only then is the
// body read, up to the platform's cap on a test's files (FILES_MAX_TOTAL_MB).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TRPCError } from '@trpc/server'
import { getHTTPStatusCodeFromError } from '@trpc/server/http'
import { z } from 'zod'
import { projectIdSchema, sha256Schema } from '@stampede/shared'
import { formatFileSize } from '@stampede/shared/files'
import type { Services } from '../context.ts'
import type { RequestInfo } from '../auth/actor.ts'
import { authorize } from '../auth/authorize.ts'
import { publicErrorMessage } from '../faults.ts'
import { storeBlob } from './store.ts'

export const FILE_UPLOAD_PATH = '/files'

const querySchema = z.object({ projectId: projectIdSchema.optional(), sha256: sha256Schema.optional() }).strict()

/** The project each authorised upload is for, from onRequest to the handler. */
const uploadProject = new WeakMap<FastifyRequest, string>()

function answer(reply: FastifyReply, status: number, message: string, code?: string) {
  return reply.code(status).send({ error: { message, ...(code ? { code } : {}) } })
}

export function registerFileUpload(app: FastifyInstance, services: Services, requestInfo: (req: FastifyRequest) => RequestInfo): void {
  const limit = services.config.files.maxTotalBytes
  void app.register(async (scope) => {
    // Any content type: the body is the file's bytes as they are.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => done(null, body))

    scope.post<{ Querystring: Record<string, string> }>(
      FILE_UPLOAD_PATH,
      {
        bodyLimit: limit,
        onRequest: async (req, reply) => {
          const query = querySchema.safeParse(req.query)
          if (!query.success) {
            const issue = query.error.issues[0]!
            return answer(reply, 400, `${issue.path.join('.') || 'query'}: ${issue.message}. Upload with POST /files?projectId=<project id>&sha256=<the bytes' SHA-256> and the file's bytes as the body.`, 'BAD_REQUEST')
          }
          try {
            const { access } = await authorize(services, requestInfo(req), { permission: 'write', change: true })
            uploadProject.set(req, await access.project(query.data.projectId))
          } catch (err) {
            if (err instanceof TRPCError) return answer(reply, getHTTPStatusCodeFromError(err), err.message, err.code)
            return answer(reply, 503, publicErrorMessage(err, `POST ${FILE_UPLOAD_PATH}`), 'SERVICE_UNAVAILABLE')
          }
        },
      },
      async (req, reply) => {
        const projectId = uploadProject.get(req)!
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
        const { sha256 } = querySchema.parse(req.query)
        try {
          return await storeBlob(services, projectId, body, sha256)
        } catch (err) {
          if (err instanceof TRPCError) return answer(reply, getHTTPStatusCodeFromError(err), err.message, err.code)
          throw err
        }
      },
    )
  })
}

/** The answer to a body over the cap, naming it. */
export const uploadTooLargeMessage = (limit: number) =>
  `the file is larger than the ${formatFileSize(limit)} a test's files may add up to (FILES_MAX_TOTAL_MB); split the data or keep only what the test reads`
