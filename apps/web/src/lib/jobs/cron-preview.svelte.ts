// The job form's preview of a schedule: Temporal's own next firing times from jobs.preview for
// what the user is typing, asked at most once per pause in typing. A refusal ("cron: Temporal
// refused …", "timezone: must be …") is kept per field, so the form shows it under that field
// and refuses to save; so is a schedule firing more often than the API's minimum interval
// (`tooFrequent`), whose times are still shown. An answer for an older expression is dropped.
import { api, describeError, errorIssues } from '../api/client.ts'
import { apiProblems, type FieldProblems } from './job-form.ts'

export type PreviewFetcher = (input: { cron: string; timezone: string }, signal: AbortSignal) => Promise<{ nextFirings: string[]; tooFrequent?: string | null }>

const fetchPreview: PreviewFetcher = (input, signal) => api.jobs.preview.query({ ...input, count: 5 }, { signal })

export class CronPreview {
  /** The next firing times (ISO) of `shown`. */
  times = $state.raw<string[]>([])
  /** The API's refusal of `shown`, by field; anything else in `general`. */
  problems = $state.raw<FieldProblems>({})
  general = $state<string | null>(null)
  /** The expression and zone the times or problems belong to. */
  shown = $state.raw<{ cron: string; timezone: string } | null>(null)
  pending = $state(false)

  readonly refused = $derived(Boolean(this.problems.cron || this.problems.timezone))

  #timer: ReturnType<typeof setTimeout> | undefined
  #controller: AbortController | undefined
  #generation = 0

  constructor(
    private readonly fetcher: PreviewFetcher = fetchPreview,
    private readonly delayMs = 350,
  ) {}

  /** Asks for the firing times of `cron` in `timezone` once the user pauses typing. */
  update(cron: string, timezone: string): void {
    this.#cancel()
    const generation = this.#generation
    const wanted = { cron: cron.trim(), timezone: timezone.trim() }
    if (!wanted.cron || !wanted.timezone) {
      this.#show(wanted, [], {}, null)
      this.pending = false
      return
    }
    if (this.shown?.cron === wanted.cron && this.shown.timezone === wanted.timezone && !this.general) {
      this.pending = false
      return
    }
    this.pending = true
    this.#timer = setTimeout(() => void this.#fetch(wanted, generation), this.delayMs)
  }

  stop(): void {
    this.#cancel()
    this.pending = false
  }

  async #fetch(wanted: { cron: string; timezone: string }, generation: number): Promise<void> {
    const controller = new AbortController()
    this.#controller = controller
    try {
      const { nextFirings, tooFrequent } = await this.fetcher(wanted, controller.signal)
      if (generation !== this.#generation) return
      this.#show(wanted, nextFirings, tooFrequent ? apiProblems(tooFrequent).fields : {}, null)
    } catch (err) {
      if (generation !== this.#generation) return
      const { fields, general } = apiProblems(describeError(err), errorIssues(err))
      this.#show(wanted, [], fields, general)
    } finally {
      if (generation === this.#generation) this.pending = false
    }
  }

  #show(shown: { cron: string; timezone: string }, times: string[], problems: FieldProblems, general: string | null): void {
    this.shown = shown
    this.times = times
    this.problems = problems
    this.general = general
  }

  #cancel(): void {
    this.#generation++
    clearTimeout(this.#timer)
    this.#controller?.abort()
  }
}
