import { router } from '../trpc.ts'
import { locationsRouter } from './locations.ts'
import { runsRouter } from './runs.ts'
import { testsRouter } from './tests.ts'

export const appRouter = router({
  tests: testsRouter,
  runs: runsRouter,
  locations: locationsRouter,
})

export type AppRouter = typeof appRouter
