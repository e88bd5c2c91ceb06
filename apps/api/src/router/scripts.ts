import { scriptValidateInput } from '@stampede/shared'
import { projectLimits, validateScript } from '../scripts/validate.ts'
import { blobReader, resolveFileRefs } from '../files/store.ts'

const noFiles = () => Promise.reject(new Error('no files were given'))
import { signedInProcedure, router } from '../trpc.ts'

export const scriptsRouter = router({
  /** Static checks, then k6's own load of the script and the platform's caps; never runs it. */
  validate: signedInProcedure.input(scriptValidateInput).mutation(async ({ ctx, input }) => {
    // With a project, its own (lower) VU and duration caps apply.
    const limits = input.projectId === undefined ? undefined : await projectLimits(ctx, await ctx.access.project(input.projectId))
    // The script's files are a project's uploads; without any, what it opens or imports locally is missing.
    const projectId = input.files?.length ? await ctx.access.project(input.projectId) : undefined
    const files = projectId ? await resolveFileRefs(ctx, projectId, input.files ?? []) : []
    const bundle = { files, archive: null, read: projectId ? blobReader(ctx, projectId) : noFiles }
    return validateScript(ctx, input.script, { ...(limits ? { limits } : {}), caller: ctx.actor, bundle })
  }),
})
