import { scriptValidateInput } from '@stampede/shared'
import { validateScript } from '../scripts/validate.ts'
import { publicProcedure, router } from '../trpc.ts'

export const scriptsRouter = router({
  /** Static checks, then k6's own load of the script and the platform's caps; never runs it. */
  validate: publicProcedure.input(scriptValidateInput).mutation(({ ctx, input }) => validateScript(ctx, input.script)),
})
