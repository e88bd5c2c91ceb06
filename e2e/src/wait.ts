import type { Api } from './clients.ts'

/** Polls until `fn` returns a value that is not undefined, or fails after the deadline. */
export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** Waits until the run has a final status and its artifacts are stored, and returns it as runs.byId does. */
export function runFinished(api: Api, runId: string, timeoutMs = 90_000, intervalMs = 200) {
  return waitUntil(`run ${runId} to finish`, async () => {
    const run = await api.runs.byId.query({ id: runId })
    return ['queued', 'running'].includes(run.status) || run.artifactsPending ? undefined : run
  }, timeoutMs, intervalMs)
}
