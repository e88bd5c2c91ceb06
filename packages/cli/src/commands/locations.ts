// stampede locations: where runs can run.
import { EXIT } from '../exit-codes.ts'
import { formatLocations } from '../format.ts'
import { out, parse, UsageError, type Command, type CommandContext } from '../context.ts'

const usage = ['stampede locations']

async function locationsCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const { positionals } = parse(args, {})
  if (positionals.length) throw new UsageError('locations takes no arguments')
  const locations = await ctx.client.locations.list.query()
  out(ctx, () => formatLocations(locations), locations)
  return EXIT.passed
}

export const command: Command = { usage, handler: locationsCommand }
