// What every command shares: the CLI's I/O (a parameter, so tests can drive it), the context a
// command runs in, the usage errors that map to exit code 2, option parsing with the global
// options, and printing a result as human text or as one JSON document (--json).
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { StampedeClient } from '@stampede/sdk'

export type Writable = { write(chunk: string): unknown; isTTY?: boolean }

export interface CliIo {
  env: Record<string, string | undefined>
  stdout: Writable
  stderr: Writable
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  cwd: string
  /**
   * Registers a handler for Ctrl-C (SIGINT) and for a CI job being stopped (SIGTERM); returns a
   * function that removes it.
   */
  onInterrupt(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void
}

export interface CommandContext {
  io: CliIo
  json: boolean
  client: StampedeClient
}

/** A command: its lines and paragraphs of the help text, and its handler, which returns the exit code. */
export interface Command {
  usage: string[]
  notes?: string
  handler: (ctx: CommandContext, args: string[]) => Promise<number>
}

/** Bad usage: unknown command or option, missing argument (exit 2). */
export class UsageError extends Error {}
/** The script file is readable but unusable (exit 7, as an invalid script). */
export class ScriptFileError extends Error {}

export const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options']

/** Parses a command's arguments: its own options plus the global ones; a parse error is bad usage. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

export function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(`expected exactly one ${what}${positionals.length > 1 ? `, got ${positionals.length}` : ''}`)
  return positionals[0]
}

/** Prints a result on stdout: `human()` by default, `machine` as one JSON document with --json. */
export function out(ctx: CommandContext, human: () => string, machine: unknown): void {
  ctx.io.stdout.write(ctx.json ? `${JSON.stringify(machine, null, 2)}\n` : `${human()}\n`)
}
