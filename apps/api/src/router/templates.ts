import { TRPCError } from '@trpc/server'
import { templateByIdInput } from '@stampede/shared'
import { TEMPLATES, templateById } from '@stampede/shared/templates'
import { signedInProcedure, router } from '../trpc.ts'

export const templatesRouter = router({
  list: signedInProcedure.query(() => TEMPLATES.map(({ id, name, description }) => ({ id, name, description }))),
  byId: signedInProcedure.input(templateByIdInput).query(({ input }) => {
    const template = templateById(input.id)
    if (!template) throw new TRPCError({ code: 'NOT_FOUND', message: `template ${input.id} does not exist; choose one of ${TEMPLATES.map((t) => t.id).join(', ')}` })
    return { id: template.id, name: template.name, description: template.description, script: template.script }
  }),
})
