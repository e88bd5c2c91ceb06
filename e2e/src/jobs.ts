// Waiting on a job's Temporal schedule, for the jobs tests (API and browser).
import type { Api } from './clients.ts'
import { waitUntil } from './wait.ts'

/**
 * Waits until Temporal reports no firing of the job running (buffered ones start before that).
 * A firing's row can be finished while Temporal still counts it as running, and a job with the
 * skip policy would skip a trigger sent then.
 */
export const settled = (api: Api, jobId: string, timeoutMs = 60_000) =>
  waitUntil(`no firing of job ${jobId} running`, async () => {
    const { schedule } = await api.jobs.byId.query({ id: jobId })
    return 'running' in schedule && schedule.running === 0 ? true : undefined
  }, timeoutMs, 100)
