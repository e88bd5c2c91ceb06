// stampede validate <script>: checks a script, with the files it uploads beside it, on the API without running it.
import { EXIT } from '../exit-codes.ts'
import { onePositional, out, parse, type Command, type CommandContext } from '../context.ts'
import { readScript, validate } from './shared.ts'
import { collectAndUpload } from './test-files.ts'

const usage = ['stampede validate <script.js|.ts>']

async function validateCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const { positionals } = parse(args, {})
  const file = onePositional(positionals, 'script file')
  // The script's files go with it: what it opens and imports is checked against them.
  const script = await readScript(ctx.io, file)
  const { ok, result } = await validate(ctx, file, script, false, await collectAndUpload(ctx, file))
  if (ctx.json) out(ctx, () => '', result)
  return ok ? EXIT.passed : EXIT.scriptError
}

export const command: Command = { usage, handler: validateCommand }
