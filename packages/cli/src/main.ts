// The `stampede` CLI: CI-friendly commands over the SDK. Human output by default, `--json` for
// machines (one JSON document on stdout, the API's own shapes), and exit codes a pipeline can
// branch on (see exit-codes.ts). `main` takes its I/O as a parameter so tests can drive it.
// Each command is a module of ./commands; this file holds the global options, the help text and
// the mapping of errors to exit codes.
import { parseArgs } from 'node:util'
import { API_COMPAT, createStampedeClient, SDK_VERSION, StampedeApiError, StampedeConnectionError, StampedeConsoleError, StampedeError, StampedeVersionError, type StampedeClient } from '@stampede/sdk'
import { command as jobsCommand } from './commands/jobs.ts'
import { command as locationsCommand } from './commands/locations.ts'
import { command as runCommand } from './commands/run.ts'
import { command as runsCommand } from './commands/runs.ts'
import { command as testsCommand } from './commands/tests.ts'
import { command as validateCommand } from './commands/validate.ts'
import { GLOBAL_OPTIONS, ScriptFileError, UsageError, type CliIo, type Command } from './context.ts'
import { EXIT, EXIT_CODES_HELP } from './exit-codes.ts'
import { processEnv } from './env.ts'

export type { CliIo } from './context.ts'

/** The commands by name, in the order of the help text. */
const COMMANDS: Record<string, Command> = {
  validate: validateCommand,
  run: runCommand,
  tests: testsCommand,
  runs: runsCommand,
  locations: locationsCommand,
  jobs: jobsCommand,
}

const HELP = `stampede — run Stampede load tests from a terminal or a CI pipeline

Usage:
${Object.values(COMMANDS).flatMap((c) => c.usage).map((line) => `  ${line}\n`).join('')}
Options for every command:
  --url <url>      API base URL (env STAMPEDE_URL, default http://127.0.0.1:4000)
  --token <token>  API token, sent as a Bearer token (env STAMPEDE_TOKEN)
  --json           machine output: one JSON document on stdout (runs logs: one event per line)
  -h, --help       this help
  --version        the CLI's version (stampede --version)

${Object.values(COMMANDS).flatMap((c) => (c.notes ? [`${c.notes}\n\n`] : [])).join('')}The CLI checks the API's version before its first call: it warns (on stderr) when the API is newer
by a minor or major version, and refuses (exit 1) an API of another compatibility level, naming
both versions.

${EXIT_CODES_HELP}
`

function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage
  // This CLI and the API do not speak the same API version: the API cannot take its requests.
  if (err instanceof StampedeVersionError) return EXIT.refused
  if (err instanceof ScriptFileError) return EXIT.scriptError
  if (err instanceof StampedeConnectionError) return EXIT.unreachable
  if (err instanceof StampedeApiError) {
    if (err.code === 'BAD_REQUEST' && /^script\b/.test(err.message)) return EXIT.scriptError
    return err.code === 'INTERNAL_SERVER_ERROR' ? EXIT.platformError : EXIT.refused
  }
  if (err instanceof StampedeConsoleError || err instanceof StampedeError) return EXIT.platformError
  return EXIT.platformError
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv
  const json = args.includes('--json') || command === '--json'
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(HELP)
      return command ? EXIT.passed : EXIT.usage
    }
    if (command === '--version' || command === 'version') {
      io.stdout.write(json ? `${JSON.stringify({ version: SDK_VERSION, apiCompat: API_COMPAT }, null, 2)}\n` : `stampede ${SDK_VERSION} (API compatibility level ${API_COMPAT})\n`)
      return EXIT.passed
    }
    const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command]?.handler : undefined
    if (!handler) throw new UsageError(`unknown command "${command}"`)
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(HELP)
      return EXIT.passed
    }
    // Read --url/--token before the command parses the rest, so every command shares them.
    const { values } = parseArgs({ args, options: GLOBAL_OPTIONS, strict: false, allowPositionals: true })
    const url = (typeof values.url === 'string' ? values.url : undefined) ?? io.env.STAMPEDE_URL ?? 'http://127.0.0.1:4000'
    const token = (typeof values.token === 'string' ? values.token : undefined) ?? io.env.STAMPEDE_TOKEN
    let client: StampedeClient
    try {
      client = createStampedeClient({ url, token, client: 'cli', onWarning: (message) => io.stderr.write(`stampede: warning: ${message}\n`) })
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    return await handler({ io, json, client }, args)
  } catch (err) {
    const code = exitCodeFor(err)
    const message = err instanceof Error ? err.message : String(err)
    io.stderr.write(`stampede: ${message}${code === EXIT.usage ? '\n(stampede --help for usage)' : ''}\n`)
    if (json) {
      const kind = err instanceof StampedeApiError ? { code: err.code, httpStatus: err.httpStatus } : {}
      io.stdout.write(`${JSON.stringify({ error: { type: err instanceof Error ? err.constructor.name : 'Error', message, exitCode: code, ...kind } }, null, 2)}\n`)
    }
    return code
  }
}

/** Entry point for bin/stampede.js. */
export async function run(): Promise<never> {
  const code = await main(process.argv.slice(2), {
    env: processEnv(),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    onInterrupt(handler) {
      const onInt = () => handler('SIGINT')
      const onTerm = () => handler('SIGTERM')
      process.on('SIGINT', onInt)
      process.on('SIGTERM', onTerm)
      return () => {
        process.off('SIGINT', onInt)
        process.off('SIGTERM', onTerm)
      }
    },
  })
  // Flush before exiting: a pipe may still hold the JSON document.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
  process.exit(code)
}
