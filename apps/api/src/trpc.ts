// tRPC is initialised once here. Plain JSON on the wire (no transformer) so any HTTP client can
// call the API; input errors name the field that is wrong.
import { initTRPC } from '@trpc/server'
import { ZodError } from 'zod'
import type { Context } from './context.ts'

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    if (error.code === 'BAD_REQUEST' && error.cause instanceof ZodError) {
      const issues = error.cause.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
      return {
        ...shape,
        message: issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '),
        data: { ...shape.data, issues },
      }
    }
    return shape
  },
})

export const router = t.router
export const publicProcedure = t.procedure
export const createCallerFactory = t.createCallerFactory
