// stampede jobs list | trigger: the platform's scheduled jobs.
import { StampedeApiError } from '@stampede/sdk'
import { EXIT } from '../exit-codes.ts'
import { formatJobs } from '../format.ts'
import { onePositional, out, parse, UsageError, type Command, type CommandContext } from '../context.ts'

const usage = [
  'stampede jobs list',
  'stampede jobs trigger <job name|id>',
]

async function jobsCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const { positionals } = parse(rest, {})
  if (sub === 'list') {
    if (positionals.length) throw new UsageError('jobs list takes no arguments')
    const jobs = await ctx.client.jobs.list.query()
    out(ctx, () => (jobs.length ? formatJobs(jobs) : 'no jobs'), jobs)
    return EXIT.passed
  }
  if (sub === 'trigger') {
    const nameOrId = onePositional(positionals, 'job name or id')
    const jobs = await ctx.client.jobs.list.query()
    const job = jobs.find((j) => j.id === nameOrId) ?? jobs.find((j) => j.name === nameOrId)
    if (!job) throw new StampedeApiError(`no job is named "${nameOrId}"`, 'NOT_FOUND', 404, 'jobs.list')
    const result = await ctx.client.jobs.trigger.mutate({ id: job.id })
    out(ctx, () => `job "${job.name}" ${job.id}: ${result.message}`, { ...result, name: job.name })
    return EXIT.passed
  }
  throw new UsageError(`jobs: expected "list" or "trigger"${sub ? `, got "${sub}"` : ''}`)
}

export const command: Command = { usage, handler: jobsCommand }
