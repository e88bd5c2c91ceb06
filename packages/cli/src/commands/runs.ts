// stampede runs list | show | cancel | logs: runs that exist already.
import { StampedeApiError, type RunListInput, type StampedeClient } from '@stampede/sdk'
import { EXIT } from '../exit-codes.ts'
import { formatResults, formatRunList } from '../format.ts'
import { onePositional, out, parse, UsageError, type Command, type CommandContext } from '../context.ts'
import { printEvent } from '../follow.ts'

const usage = [
  'stampede runs list [--test <name|id>] [--status <status>] [--location <id>] [--limit <n>]',
  'stampede runs show <run id>',
  'stampede runs cancel <run id>',
  'stampede runs logs <run id> [--follow]',
]

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

async function resolveTestId(client: StampedeClient, nameOrId: string): Promise<string> {
  if (UUID.test(nameOrId)) return nameOrId
  const test = (await client.tests.list.query()).find((t) => t.name === nameOrId)
  if (!test) throw new StampedeApiError(`no saved test is named "${nameOrId}"`, 'NOT_FOUND', 404, 'tests.list')
  return test.id
}

async function runsCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const { client } = ctx
  switch (sub) {
    case 'list': {
      const { values, positionals } = parse(rest, { test: { type: 'string' }, status: { type: 'string' }, location: { type: 'string' }, limit: { type: 'string' } })
      if (positionals.length) throw new UsageError('runs list takes no positional arguments')
      const input: Exclude<RunListInput, void | undefined> = {}
      if (values.test) input.testId = await resolveTestId(client, values.test)
      if (values.status) input.status = values.status as typeof input.status
      if (values.location) input.location = values.location
      if (values.limit) input.limit = Number(values.limit)
      const page = await client.runs.list.query(input)
      out(ctx, () => (page.items.length ? formatRunList(page.items) : 'no runs'), page)
      return EXIT.passed
    }
    case 'show': {
      const { positionals } = parse(rest, {})
      const run = await client.runs.byId.query({ id: onePositional(positionals, 'run id') })
      out(ctx, () => formatResults(run), run)
      return EXIT.passed
    }
    case 'cancel': {
      const { positionals } = parse(rest, {})
      const run = await client.runs.cancel.mutate({ id: onePositional(positionals, 'run id') })
      out(ctx, () => `run ${run.id}: ${run.status === 'queued' || run.status === 'running' ? 'cancelling' : `already ${run.status}`}`, run)
      return EXIT.passed
    }
    case 'logs': {
      const { values, positionals } = parse(rest, { follow: { type: 'boolean', short: 'f', default: false } })
      const id = onePositional(positionals, 'run id')
      const run = await client.runs.byId.query({ id })
      if (!values.follow && (run.status === 'queued' || run.status === 'running')) {
        throw new UsageError(`run ${id} is still ${run.status}: add --follow to stream its console until it ends`)
      }
      for await (const event of client.followConsole(id)) {
        if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(event)}\n`)
        else if (event.type === 'lines' || event.type === 'gap' || event.type === 'fill') printEvent(ctx, ctx.io.stdout, event, id)
      }
      return EXIT.passed
    }
  }
  throw new UsageError(`runs: expected "list", "show", "cancel" or "logs"${sub ? `, got "${sub}"` : ''}`)
}

export const command: Command = { usage, handler: runsCommand }
