// The CLI's exit codes: what a CI step branches on. 0 and 99 match k6's own; the rest are
// distinct so a pipeline can tell a broken script from a broken platform.
import type { Run } from '@stampede/sdk'

export const EXIT = {
  passed: 0,
  /** The API refused the request: unknown id or name, invalid input, no or bad token, no right; or it speaks another API version. */
  refused: 1,
  usage: 2,
  /** No answer from the API at STAMPEDE_URL. */
  unreachable: 3,
  /** The platform broke: the run ended `error` without a script failure, API internal error, console lost. */
  platformError: 4,
  cancelled: 5,
  timedOut: 6,
  /** The script is invalid or threw: validation failed, k6 exit 104 (invalid config), 107 (exception), 108 (aborted). */
  scriptError: 7,
  thresholdsCrossed: 99,
} as const

/** k6 exit codes that mean the script, not the platform, is at fault. */
const SCRIPT_EXIT_CODES = new Set([104, 107, 108])

export function exitCodeForRun(run: Pick<Run, 'status' | 'exitCode'>): number {
  switch (run.status) {
    case 'passed':
      return EXIT.passed
    case 'failed':
      return EXIT.thresholdsCrossed
    case 'cancelled':
      return EXIT.cancelled
    case 'timed_out':
      return EXIT.timedOut
    case 'error':
      return run.exitCode !== null && SCRIPT_EXIT_CODES.has(run.exitCode) ? EXIT.scriptError : EXIT.platformError
    default:
      // queued/running: the CLI only maps final runs; reaching here is a platform fault.
      return EXIT.platformError
  }
}

export const EXIT_CODES_HELP = `Exit codes:
  0   passed (run: thresholds held; other commands: success)
  1   the API refused the request (unknown id or name, invalid input, missing, revoked or
      expired token, a role or token scope without the right), or the API's version is
      incompatible with this CLI (upgrade the CLI)
  2   bad usage (unknown command or option, missing argument)
  3   cannot reach the API (check --url / STAMPEDE_URL)
  4   platform error (run ended "error" without a script fault, API internal error, console lost)
  5   run cancelled (also after Ctrl-C)
  6   run timed out
  7   script error (validation failed, or k6 exited 104 invalid config, 107 script exception, 108 script aborted)
  99  thresholds crossed (like k6)`
