// A run's console on the terminal: the streamed k6 lines with a progress line (run), and the
// printing of console events that `runs logs` shares.
import type { ConsoleEvent, Run } from '@stampede/sdk'
import type { CommandContext, Writable } from './context.ts'
import { STATUS_WORDS } from './format.ts'
import { formatProgress, updateMetrics, updateProgress, type Progress } from './progress.ts'

/** Streams the console with a progress line until the run ends; resolves with the final run. */
export async function follow(ctx: CommandContext, started: Run): Promise<Run> {
  const { io, client } = ctx
  const progress: Progress = {}
  let status: Run['status'] = started.status
  let runningSince: number | undefined = status === 'running' ? Date.now() : undefined
  // The console goes to stdout; in --json mode stdout is reserved for the result, so stderr.
  const consoleOut = ctx.json ? io.stderr : io.stdout
  const live = Boolean(io.stderr.isTTY) && !ctx.json
  let shown = false
  const line = () => formatProgress(progress, status, runningSince === undefined ? 0 : Date.now() - runningSince)
  const clear = () => {
    if (shown) io.stderr.write('\r\x1b[2K')
    shown = false
  }
  const draw = () => {
    if (!live || status !== 'running') return
    io.stderr.write(`\r\x1b[2K${line()}`)
    shown = true
  }
  // On a terminal the line is redrawn every second; in CI logs it is printed every 10 s.
  let ticks = 0
  const timer = setInterval(() => {
    ticks++
    if (live) draw()
    else if (!ctx.json && status === 'running' && ticks % 10 === 0) io.stderr.write(`[progress] ${line()}\n`)
  }, 1000)
  try {
    const statusPrinter = newStatusPrinter(ctx)
    // With the metric frames: the progress line shows live requests/s, p95 and the error rate.
    for await (const event of client.followConsole(started.id, { metrics: true, onReconnect: ({ reason }) => !ctx.json && io.stderr.write(`[console reconnecting: ${reason}]\n`) })) {
      if (event.type === 'metrics') {
        updateMetrics(progress, event.frames)
        continue
      }
      clear()
      if (event.type === 'status') statusPrinter(event)
      else printEvent(ctx, consoleOut, event, started.id)
      if (event.type === 'lines') for (const l of event.lines) updateProgress(progress, l.text)
      if (event.type === 'status') {
        if (event.status === 'running' && runningSince === undefined) runningSince = Date.now()
        status = event.status
      }
      draw()
    }
  } finally {
    clearInterval(timer)
    clear()
  }
  // The console has ended; the recorded result may trail it by a moment.
  return client.waitForRun(started.id, { pollIntervalMs: 250, timeoutMs: 120_000 })
}

export function printEvent(ctx: CommandContext, to: Writable, event: ConsoleEvent, runId: string): void {
  switch (event.type) {
    case 'lines':
      // One write per message: a tick's lines arrive together.
      to.write(event.lines.map((l) => `${l.text}\n`).join(''))
      break
    case 'gap':
      to.write(`[console lines ${event.from}–${event.to} were not relayed (${event.reason}); they follow from the stored log once it is there; the complete log: stampede runs logs ${runId}]\n`)
      break
    case 'fill':
      // Lines of an earlier gap, printed where they arrive: the marker says where they belong.
      if (event.lines.length === 0) break
      to.write(`[console lines ${event.from}–${event.to}, from the stored log:]\n`)
      for (const line of event.lines) to.write(`${line.text}\n`)
      break
    case 'end':
      if (!ctx.json) ctx.io.stderr.write(`[${STATUS_WORDS[event.status]}]\n`)
      break
  }
}

/**
 * Prints a status when it changes (not every repeat), and a silent runner once when it goes
 * quiet and once when it answers again, not each second it stays quiet.
 */
function newStatusPrinter(ctx: CommandContext): (event: Extract<ConsoleEvent, { type: 'status' }>) => void {
  let shown: string | undefined
  let silent = false
  return (event) => {
    if (ctx.json) return
    const key = `${event.status} ${event.waitingForRunner}`
    if (key !== shown) {
      shown = key
      ctx.io.stderr.write(`[${event.status}${event.waitingForRunner ? ': waiting for a runner in this location' : ''}]\n`)
    }
    const quiet = event.runnerSilentSeconds !== undefined
    if (quiet && !silent) ctx.io.stderr.write(`[runner not responding for ${event.runnerSilentSeconds} s]\n`)
    else if (!quiet && silent && event.status === 'running') ctx.io.stderr.write('[runner responding again]\n')
    silent = quiet
  }
}
