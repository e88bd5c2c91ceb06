import { router } from '../trpc.ts'
import { authRouter } from './auth.ts'
import { filesRouter } from './files.ts'
import { jobsRouter } from './jobs.ts'
import { locationsRouter } from './locations.ts'
import { metaRouter } from './meta.ts'
import { membersRouter, projectsRouter } from './projects.ts'
import { runsRouter } from './runs.ts'
import { scriptsRouter } from './scripts.ts'
import { templatesRouter } from './templates.ts'
import { testsRouter } from './tests.ts'
import { auditRouter, tokensRouter } from './tokens.ts'

export const appRouter = router({
  auth: authRouter,
  projects: projectsRouter,
  members: membersRouter,
  tokens: tokensRouter,
  audit: auditRouter,
  tests: testsRouter,
  files: filesRouter,
  runs: runsRouter,
  jobs: jobsRouter,
  locations: locationsRouter,
  scripts: scriptsRouter,
  templates: templatesRouter,
  meta: metaRouter,
})

export type AppRouter = typeof appRouter
