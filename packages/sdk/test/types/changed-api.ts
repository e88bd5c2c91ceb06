// A stand-in for "the API changed": the real AppRouter with `durationMs` removed from the output
// of `runs.byId`, built from the API's own routers. types.test.ts maps `@stampede/api` to this
// file and expects uses-api.ts to stop compiling.
import { byIdInput } from '@stampede/shared'
import { appRouter } from '../../../../apps/api/src/router/root.ts'
import type { RunDto } from '../../../../apps/api/src/runs/dto.ts'
import { publicProcedure, router } from '../../../../apps/api/src/trpc.ts'

export const changedRouter = router({
  ...appRouter._def.record,
  runs: router({
    ...appRouter._def.record.runs,
    byId: publicProcedure.input(byIdInput).query((): Omit<RunDto, 'durationMs'> => {
      throw new Error('a type fixture; never called')
    }),
  }),
})

export type AppRouter = typeof changedRouter
