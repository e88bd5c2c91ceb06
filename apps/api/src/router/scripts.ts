import { scriptValidateInput } from '@stampede/shared'
import { projectLimits, validateScript } from '../scripts/validate.ts'
import { signedInProcedure, router } from '../trpc.ts'

export const scriptsRouter = router({
  /** Static checks, then k6's own load of the script and the platform's caps; never runs it. */
  validate: signedInProcedure.input(scriptValidateInput).mutation(async ({ ctx, input }) => {
    // With a project, its own (lower) VU and duration caps apply.
    const limits = input.projectId === undefined ? undefined : await projectLimits(ctx, await ctx.access.project(input.projectId))
    return validateScript(ctx, input.script, { ...(limits ? { limits } : {}), caller: ctx.actor })
  }),
})
