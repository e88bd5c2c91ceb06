// The preview as the form drives it, with jobs.preview replaced by a fake that answers like the
// API (times, or a BAD_REQUEST whose message names the field).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CronPreview, type PreviewFetcher } from './cron-preview.svelte.ts'

const TIMES = ['2026-01-16T02:00:00.000Z', '2026-01-17T02:00:00.000Z']

function fakeApi() {
  const calls: { cron: string; timezone: string }[] = []
  const fetcher: PreviewFetcher = async (input) => {
    calls.push(input)
    if (input.cron.startsWith('61')) throw new Error('cron: Temporal refused the expression (minute out of range)')
    if (input.timezone === 'Mars/Olympus') throw new Error('timezone: must be an IANA time zone such as UTC')
    if (input.cron === 'boom') throw new Error('could not preview the job’s Temporal schedule')
    if (input.cron === '*/3 * * * * * *') return { nextFirings: TIMES, tooFrequent: `cron: "${input.cron}" fires every 3 s; jobs may fire at most once every 60 s (JOB_MIN_INTERVAL_SECONDS=60). Choose a schedule whose firings are at least 60 s apart` }
    return { nextFirings: TIMES, tooFrequent: null }
  }
  return { calls, fetcher }
}

/** Lets the debounce run out and the fake's promise settle. */
async function settle(ms = 400): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
}

let preview: CronPreview | undefined

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  preview?.stop()
  vi.useRealTimers()
})

describe('CronPreview', () => {
  it('asks once the user stops typing, for the last expression only', async () => {
    const { calls, fetcher } = fakeApi()
    preview = new CronPreview(fetcher, 300)
    for (const cron of ['0', '0 2', '0 2 * *', '0 2 * * *']) {
      preview.update(cron, 'UTC')
      await vi.advanceTimersByTimeAsync(100)
    }
    expect(preview.pending).toBe(true)
    await settle()
    expect(calls).toEqual([{ cron: '0 2 * * *', timezone: 'UTC' }])
    expect(preview.times).toEqual(TIMES)
    expect(preview.pending).toBe(false)
    expect(preview.refused).toBe(false)

    preview.update(' 0 2 * * * ', 'UTC') // the same schedule: no new request
    await settle()
    expect(calls).toHaveLength(1)
  })

  it('keeps the API’s refusal under the field it names, and refuses until fixed', async () => {
    const { fetcher } = fakeApi()
    preview = new CronPreview(fetcher, 300)
    preview.update('61 * * * *', 'UTC')
    await settle()
    expect(preview.problems).toEqual({ cron: 'Temporal refused the expression (minute out of range)' })
    expect(preview.times).toEqual([])
    expect(preview.refused).toBe(true)

    preview.update('0 2 * * *', 'Mars/Olympus')
    await settle()
    expect(preview.problems).toEqual({ timezone: 'must be an IANA time zone such as UTC' })

    preview.update('0 2 * * *', 'UTC')
    await settle()
    expect(preview.problems).toEqual({})
    expect(preview.refused).toBe(false)
  })

  it('refuses a schedule firing more often than the API allows, under the cron field, and still shows its times', async () => {
    const { fetcher } = fakeApi()
    preview = new CronPreview(fetcher, 300)
    preview.update('*/3 * * * * * *', 'UTC')
    await settle()
    expect(preview.problems).toEqual({ cron: '"*/3 * * * * * *" fires every 3 s; jobs may fire at most once every 60 s (JOB_MIN_INTERVAL_SECONDS=60). Choose a schedule whose firings are at least 60 s apart' })
    expect(preview.times).toEqual(TIMES)
    expect(preview.refused).toBe(true)

    preview.update('*/1 * * * *', 'UTC')
    await settle()
    expect(preview.problems).toEqual({})
    expect(preview.refused).toBe(false)
  })

  it('reports other failures without blaming a field, and asks again next time', async () => {
    const { calls, fetcher } = fakeApi()
    preview = new CronPreview(fetcher, 300)
    preview.update('boom', 'UTC')
    await settle()
    expect(preview.general).toMatch(/could not preview/)
    expect(preview.refused).toBe(false)
    preview.update('boom', 'UTC')
    await settle()
    expect(calls).toHaveLength(2)
  })

  it('drops an answer for an expression that was changed meanwhile', async () => {
    let release: (() => void) | undefined
    const fetcher: PreviewFetcher = (input) =>
      input.cron === 'slow'
        ? new Promise((resolve) => (release = () => resolve({ nextFirings: ['1999-01-01T00:00:00.000Z'] })))
        : Promise.resolve({ nextFirings: TIMES })
    preview = new CronPreview(fetcher, 10)
    preview.update('slow', 'UTC')
    await settle(20)
    preview.update('0 2 * * *', 'UTC')
    await settle(20)
    release?.()
    await settle(20)
    expect(preview.times).toEqual(TIMES)
    expect(preview.shown).toEqual({ cron: '0 2 * * *', timezone: 'UTC' })
  })

  it('clears the preview for an empty expression without asking', async () => {
    const { calls, fetcher } = fakeApi()
    preview = new CronPreview(fetcher, 10)
    preview.update('   ', 'UTC')
    await settle()
    expect(calls).toEqual([])
    expect(preview.times).toEqual([])
    expect(preview.pending).toBe(false)
  })
})
