// What the API is: its version and compatibility level, for clients (the SDK and CLI check it
// once) and operators. Public: a client checks it before it knows whether its token works.
import { publicProcedure, router } from '../trpc.ts'
import { API_VERSION_INFO } from '../version.ts'

export const metaRouter = router({
  version: publicProcedure.query(() => ({ ...API_VERSION_INFO })),
})
