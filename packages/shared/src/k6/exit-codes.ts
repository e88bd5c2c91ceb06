// k6's exit codes (errext/exitcodes in k6 v2.2.0) and the run status each one means.
import type { RunStatus } from '../run.ts'

export const K6_EXIT = {
  ok: 0,
  cloudTestRunFailed: 97,
  cloudFailedToGetProgress: 98,
  thresholdsHaveFailed: 99,
  setupTimeout: 100,
  teardownTimeout: 101,
  genericTimeout: 102,
  genericEngine: 103,
  invalidConfig: 104,
  externalAbort: 105,
  cannotStartRESTAPI: 106,
  scriptException: 107,
  scriptAborted: 108,
  goPanic: 109,
  markedAsFailed: 110,
} as const

const EXIT_MEANING: Record<number, string> = {
  [K6_EXIT.thresholdsHaveFailed]: 'thresholds were crossed',
  [K6_EXIT.setupTimeout]: 'setup() timed out',
  [K6_EXIT.teardownTimeout]: 'teardown() timed out',
  [K6_EXIT.genericTimeout]: 'k6 timed out',
  [K6_EXIT.genericEngine]: 'k6 engine error',
  [K6_EXIT.invalidConfig]: 'invalid k6 options',
  [K6_EXIT.externalAbort]: 'k6 was interrupted',
  [K6_EXIT.scriptException]: 'the script threw an exception',
  [K6_EXIT.scriptAborted]: 'the script called test.abort()',
  [K6_EXIT.goPanic]: 'k6 crashed',
  [K6_EXIT.markedAsFailed]: 'the test was marked as failed',
}

export const describeExitCode = (code: number): string => EXIT_MEANING[code] ?? `k6 exited with code ${code}`

/**
 * The status of a run whose k6 process exited by itself. `failed` is reserved for crossed
 * thresholds; every other non-zero exit is an `error` (the script or the platform broke).
 */
export function statusForExitCode(code: number | null): RunStatus {
  if (code === K6_EXIT.ok) return 'passed'
  if (code === K6_EXIT.thresholdsHaveFailed) return 'failed'
  return 'error'
}
