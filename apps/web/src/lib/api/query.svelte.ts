// Reactive remote data: one class holds a request's data, error and loading flag so pages show
// the same loading/empty/error states. A newer load wins; an older response is discarded.
import { describeError } from './client.ts'

export class Query<T> {
  data = $state.raw<T | undefined>(undefined)
  error = $state<string | null>(null)
  loading = $state(false)
  #generation = 0
  #controller: AbortController | undefined

  constructor(private readonly fetcher: (signal: AbortSignal) => Promise<T>) {}

  async load(): Promise<void> {
    this.#controller?.abort()
    const controller = new AbortController()
    this.#controller = controller
    const generation = ++this.#generation
    this.loading = true
    try {
      const data = await this.fetcher(controller.signal)
      if (generation !== this.#generation) return
      this.data = data
      this.error = null
    } catch (err) {
      if (generation !== this.#generation) return
      this.error = describeError(err)
    } finally {
      if (generation === this.#generation) this.loading = false
    }
  }

  /** Replaces the data with a fresher copy obtained elsewhere (e.g. a mutation's result). */
  set(data: T): void {
    this.#generation++
    this.#controller?.abort()
    this.data = data
    this.error = null
    this.loading = false
  }

  abort(): void {
    this.#generation++
    this.#controller?.abort()
    this.loading = false
  }
}
