// stampede tests list | push: the saved tests.
import { EXIT } from '../exit-codes.ts'
import { formatTests } from '../format.ts'
import { out, parse, UsageError, type Command, type CommandContext } from '../context.ts'
import { pushTest, RAW_SAMPLES_OPTIONS, rawSamplesOption, readScript, type TestEntry } from './shared.ts'
import { collectAndUpload, scriptOrArchive, uploadArchive } from './test-files.ts'

const usage = [
  'stampede tests list',
  'stampede tests push (<script> | --archive <file.tar>) --name <name> [--description <text>] [--raw-samples | --no-raw-samples]',
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
    const { values, positionals } = parse(rest, { name: { type: 'string' }, description: { type: 'string' }, archive: { type: 'string' }, ...RAW_SAMPLES_OPTIONS })
    const { file, archive } = scriptOrArchive(values.archive, positionals)
    if (!values.name) throw new UsageError('--name <name> is required')
    const rawSamples = rawSamplesOption(values)
    // The script and the files it needs (see `stampede --help`, Files), or a k6 archive.
    let entry: TestEntry
    if (archive) entry = { archive: await uploadArchive(ctx, file) }
    else {
      const script = await readScript(ctx.io, file)
      entry = { script, files: await collectAndUpload(ctx, file) }
    }
    const { test, created } = await pushTest(ctx.client, values.name, entry, values.description, rawSamples)
    out(ctx, () => `${created ? 'created' : 'updated'} test "${test.name}" ${test.id}`, test)
    return EXIT.passed
  }
  throw new UsageError(`tests: expected "list" or "push"${sub ? `, got "${sub}"` : ''}`)
}

export const command: Command = { usage, handler: testsCommand }
