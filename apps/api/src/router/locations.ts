import { signedInProcedure, router } from '../trpc.ts'

export const locationsRouter = router({
  list: signedInProcedure.query(async ({ ctx }) => {
    return Promise.all(
      ctx.config.locations.map(async (location) => {
        const { runnerAvailable, pollers } = await ctx.presence.of(location.id).catch(() => ({ runnerAvailable: false, pollers: 0 }))
        return { ...location, runnerAvailable, pollers }
      }),
    )
  }),
})
