// stampede tests list | push: the saved tests.
import { EXIT } from '../exit-codes.ts'
import { formatTests } from '../format.ts'
import { onePositional, out, parse, UsageError, type Command, type CommandContext } from '../context.ts'
import { pushTest, RAW_SAMPLES_OPTIONS, rawSamplesOption, readScript } from './shared.ts'

const usage = [
  'stampede tests list',
  'stampede tests push <script> --name <name> [--description <text>] [--raw-samples | --no-raw-samples]',
]

async function testsCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === 'list') {
    const { positionals } = parse(rest, {})
    if (positionals.length) throw new UsageError('tests list takes no arguments')
    const tests = await ctx.client.tests.list.query()
    out(ctx, () => (tests.length ? formatTests(tests) : 'no saved tests'), tests)
    return EXIT.passed
  }
  if (sub === 'push') {
    const { values, positionals } = parse(rest, { name: { type: 'string' }, description: { type: 'string' }, ...RAW_SAMPLES_OPTIONS })
    const file = onePositional(positionals, 'script file')
    if (!values.name) throw new UsageError('--name <name> is required')
    const rawSamples = rawSamplesOption(values)
    const script = await readScript(ctx.io, file)
    const { test, created } = await pushTest(ctx.client, values.name, script, values.description, rawSamples)
    out(ctx, () => `${created ? 'created' : 'updated'} test "${test.name}" ${test.id}`, test)
    return EXIT.passed
  }
  throw new UsageError(`tests: expected "list" or "push"${sub ? `, got "${sub}"` : ''}`)
}

export const command: Command = { usage, handler: testsCommand }
