// stampede validate <script>: checks a script on the API without running it.
import { EXIT } from '../exit-codes.ts'
import { onePositional, out, parse, type Command, type CommandContext } from '../context.ts'
import { readScript, validate } from './shared.ts'

const usage = ['stampede validate <script.js|.ts>']

async function validateCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const { positionals } = parse(args, {})
  const file = onePositional(positionals, 'script file')
  const { ok, result } = await validate(ctx, file, await readScript(ctx.io, file), false)
  if (ctx.json) out(ctx, () => '', result)
  return ok ? EXIT.passed : EXIT.scriptError
}

export const command: Command = { usage, handler: validateCommand }
