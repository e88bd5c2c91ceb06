import { router } from '../trpc.ts'
import { locationsRouter } from './locations.ts'
import { runsRouter } from './runs.ts'
import { scriptsRouter } from './scripts.ts'
import { templatesRouter } from './templates.ts'
import { testsRouter } from './tests.ts'

export const appRouter = router({
  tests: testsRouter,
  runs: runsRouter,
  locations: locationsRouter,
  scripts: scriptsRouter,
  templates: templatesRouter,
})

export type AppRouter = typeof appRouter
