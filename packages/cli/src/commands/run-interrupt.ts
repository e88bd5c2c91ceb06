// Ctrl-C and SIGTERM during `stampede run`. The first Ctrl-C cancels the run, after asking once
// when stdin is a terminal (--yes: without asking); a second one stops waiting for the cancelled
// run. SIGTERM (a CI job being stopped) cancels without asking. A Ctrl-C may come at any time,
// even before the run exists: it is remembered and acted on once the run does.
import { createInterface } from 'node:readline'
import type { StampedeClient } from '@stampede/sdk'
import type { CliIo } from '../context.ts'
import { EXIT } from '../exit-codes.ts'

export interface RunInterrupts {
  /** The run exists: from now on a cancel cancels it. */
  started(runId: string): void
  /** Cancels the run now if a cancel was asked for before it existed. */
  cancelIfRequested(): void
  /** Resolves with the exit code when a second Ctrl-C stops waiting for the cancelled run. */
  stopped: Promise<number>
  /** Removes the signal handlers. */
  remove(): void
}

/** Handles Ctrl-C and SIGTERM for a run from now until `remove()`. `withoutAsking`: --yes. */
export function watchInterrupts(io: CliIo, client: StampedeClient, withoutAsking: boolean): RunInterrupts {
  const log = (s: string) => io.stderr.write(`${s}\n`)
  let runId: string | undefined
  let cancelRequested = false
  let asking = false
  let stopWaiting: ((code: number) => void) | undefined
  const stopped = new Promise<number>((resolve) => (stopWaiting = resolve))
  const requestCancel = () => {
    cancelRequested = true
    if (!runId) return
    log(`\nstampede: cancelling run ${runId}…`)
    client.runs.cancel.mutate({ id: runId }).catch((err: unknown) => log(`stampede: could not cancel run ${runId}: ${(err as Error).message}`))
  }
  const remove = io.onInterrupt((signal) => {
    if (cancelRequested) {
      log(`stampede: stopped waiting; run ${runId ?? '(not started)'} is being cancelled`)
      stopWaiting?.(EXIT.cancelled)
      return
    }
    // SIGTERM is a CI job being stopped, not a person: cancel without asking.
    if (signal === 'SIGTERM' || withoutAsking || !io.stdin.isTTY || asking || !runId) return requestCancel()
    asking = true
    void ask(io, `\nCancel run ${runId}? [y/N] `).then((yes) => {
      asking = false
      if (yes) requestCancel()
      else if (!cancelRequested) log('stampede: the run goes on')
    })
  })
  return {
    started: (id) => {
      runId = id
    },
    cancelIfRequested: () => {
      if (cancelRequested) requestCancel()
    },
    stopped,
    remove,
  }
}

function ask(io: CliIo, question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream, terminal: false })
    // A previous question's close() paused stdin; without this a second answer is never read.
    io.stdin.resume()
    rl.question(question, (answer) => {
      // Resolve before close(): close emits 'close' at once, which would answer "no".
      resolve(/^y(es)?$/i.test(answer.trim()))
      rl.close()
    })
    rl.on('close', () => resolve(false))
  })
}
