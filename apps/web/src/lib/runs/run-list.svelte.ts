// A project's run history as pages of runs.list (newest first, cursor paging), filtered by
// status, location and test. "Load more" appends the next page; `refreshHead` re-reads the
// first page and merges it in, so runs still in flight update (and new ones appear on top)
// without losing the pages already loaded.
import { isTerminal } from '@stampede/shared'
import { api, describeError, type RouterOutputs } from '../api/client.ts'
import { appendPage, mergeHead, type RunFilters } from './run-paging.ts'

export type RunListItem = RouterOutputs['runs']['list']['items'][number]

export class RunList {
  items = $state.raw<RunListItem[]>([])
  nextCursor = $state<string | null>(null)
  loaded = $state(false)
  loading = $state(false)
  loadingMore = $state(false)
  error = $state<string | null>(null)
  #generation = 0

  readonly inFlight = $derived(this.items.some((r) => !isTerminal(r.status)))

  constructor(
    private readonly projectId: string,
    private readonly filters: RunFilters = {},
    private readonly limit = 25,
  ) {}

  #query(cursor?: string) {
    const { status, location, testId } = this.filters
    return api.runs.list.query({
      projectId: this.projectId,
      limit: this.limit,
      ...(status ? { status } : {}),
      ...(location ? { location } : {}),
      ...(testId ? { testId } : {}),
      ...(cursor ? { cursor } : {}),
    })
  }

  async load(): Promise<void> {
    const generation = ++this.#generation
    this.loading = true
    this.error = null
    try {
      const page = await this.#query()
      if (generation !== this.#generation) return
      this.items = page.items
      this.nextCursor = page.nextCursor
      this.loaded = true
    } catch (err) {
      if (generation === this.#generation) this.error = describeError(err)
    } finally {
      if (generation === this.#generation) this.loading = false
    }
  }

  async loadMore(): Promise<void> {
    if (!this.nextCursor || this.loadingMore) return
    const generation = this.#generation
    this.loadingMore = true
    this.error = null
    try {
      const page = await this.#query(this.nextCursor)
      if (generation !== this.#generation) return
      this.items = appendPage(this.items, page.items)
      this.nextCursor = page.nextCursor
    } catch (err) {
      if (generation === this.#generation) this.error = describeError(err)
    } finally {
      this.loadingMore = false
    }
  }

  /** Re-reads the first page quietly (no loading state; a failure keeps what is shown). */
  async refreshHead(): Promise<void> {
    if (!this.loaded || this.loading) return
    const generation = this.#generation
    try {
      const page = await this.#query()
      if (generation !== this.#generation) return
      this.items = mergeHead(this.items, page.items)
    } catch {
      // The next refresh tries again; the list on screen stays usable.
    }
  }

  /** Loads, then refreshes the first page every `ms` while any run shown is in flight. */
  start(ms = 5000): () => void {
    void this.load()
    const timer = setInterval(() => {
      if (this.inFlight && document.visibilityState !== 'hidden') void this.refreshHead()
    }, ms)
    return () => {
      clearInterval(timer)
      this.#generation++
    }
  }
}
