// One job as its page shows it: the record with its schedule and trend (jobs.byId), the firing
// history (paged, first page refreshed while open), the webhook delivery log, and the actions
// (pause, resume, trigger, backfill, delete). Each action reports its own outcome; the data it
// changes is refreshed right away instead of waiting for the next poll.
import { api, describeError, type RouterOutputs } from '../api/client.ts'
import { Query } from '../api/query.svelte.ts'
import { appendPage, mergeNewest, type Page } from './history.ts'

export type JobDetailData = RouterOutputs['jobs']['byId']
export type Firing = RouterOutputs['jobs']['history']['items'][number]
export type Delivery = RouterOutputs['jobs']['deliveries'][number]
export type JobAction = 'pause' | 'resume' | 'trigger' | 'backfill' | 'delete'

export const HISTORY_PAGE = 20

export class JobDetail {
  readonly job: Query<JobDetailData>
  readonly deliveries: Query<Delivery[]>
  history = $state.raw<Page<Firing> | null>(null)
  historyError = $state<string | null>(null)
  loadingMore = $state(false)
  busy = $state<JobAction | null>(null)
  actionError = $state<string | null>(null)
  notice = $state<string | null>(null)

  /** Something is running: the page polls faster to show it end. */
  readonly active = $derived.by(() => {
    const schedule = this.job.data?.schedule
    return (schedule && 'running' in schedule && schedule.running > 0) || (this.history?.items.some((f) => f.finishedAt === null) ?? false)
  })

  #loadedMore = false
  #historyGeneration = 0

  constructor(readonly id: string) {
    this.job = new Query((signal) => api.jobs.byId.query({ id }, { signal }))
    this.deliveries = new Query((signal) => api.jobs.deliveries.query({ id }, { signal }))
  }

  async refresh(): Promise<void> {
    await Promise.all([this.job.load(), this.refreshHistory(), this.deliveries.load()])
  }

  async refreshHistory(): Promise<void> {
    const generation = ++this.#historyGeneration
    try {
      const fresh = await api.jobs.history.query({ id: this.id, limit: HISTORY_PAGE })
      if (generation !== this.#historyGeneration) return
      this.history = this.#loadedMore && this.history ? mergeNewest(this.history, fresh) : fresh
      this.historyError = null
    } catch (err) {
      if (generation === this.#historyGeneration) this.historyError = describeError(err)
    }
  }

  async loadMore(): Promise<void> {
    const cursor = this.history?.nextCursor
    if (!this.history || !cursor) return
    this.loadingMore = true
    // A refresh that started earlier would overwrite the longer list with its first page.
    const generation = ++this.#historyGeneration
    try {
      const next = await api.jobs.history.query({ id: this.id, limit: HISTORY_PAGE, cursor })
      if (generation !== this.#historyGeneration) return
      this.history = appendPage(this.history, next)
      this.#loadedMore = true
      this.historyError = null
    } catch (err) {
      this.historyError = describeError(err)
    } finally {
      this.loadingMore = false
    }
  }

  pause = () => this.#act('pause', async () => this.#setJob(await api.jobs.pause.mutate({ id: this.id })), 'Paused: no firing starts until you resume the job.')
  resume = () => this.#act('resume', async () => this.#setJob(await api.jobs.resume.mutate({ id: this.id })), 'Resumed: the job fires on its schedule again.')

  /** The notice says what the trigger did: started, queued, cancelling the running firing, or skipped. */
  trigger = () =>
    this.#act('trigger', async () => {
      const { message } = await api.jobs.trigger.mutate({ id: this.id })
      await this.refreshHistory()
      return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`
    })

  /** Fires the job for every time its schedule matched in [from, to) (ISO instants). */
  backfill = (from: string, to: string) =>
    this.#act(
      'backfill',
      async () => {
        await api.jobs.backfill.mutate({ id: this.id, from, to })
        await this.refreshHistory()
      },
      'Backfill started: the matching firings run one after another and show in the history below.',
    )

  /** Resolves to whether the job is gone. */
  async delete(): Promise<boolean> {
    return this.#act('delete', async () => void (await api.jobs.delete.mutate({ id: this.id })), null)
  }

  stop(): void {
    this.job.abort()
    this.deliveries.abort()
    this.#historyGeneration++
  }

  /** pause/resume answer the job without its trend, which they do not change. */
  #setJob(job: Omit<JobDetailData, 'trend'>): void {
    this.job.set({ ...job, trend: this.job.data?.trend ?? [] })
  }

  /** Runs an action; its notice is `notice`, or what the action itself returns. */
  async #act(action: JobAction, run: () => Promise<string | void>, notice: string | null = null): Promise<boolean> {
    this.busy = action
    this.actionError = null
    this.notice = null
    try {
      this.notice = (await run()) ?? notice
      return true
    } catch (err) {
      this.actionError = `Could not ${action} the job: ${describeError(err)}`
      return false
    } finally {
      this.busy = null
    }
  }
}
