// One run as the run page shows it: the record from runs.byId, refreshed when the console ends,
// and the cancel action. Live status between reloads comes from the console feed.
import { api, describeError, type RouterOutputs } from '../api/client.ts'
import { Query } from '../api/query.svelte.ts'

export type Run = RouterOutputs['runs']['byId']

export class RunDetail {
  readonly run: Query<Run>
  cancelling = $state(false)
  cancelError = $state<string | null>(null)

  constructor(readonly id: string) {
    this.run = new Query((signal) => api.runs.byId.query({ id }, { signal }))
  }

  async cancel(): Promise<void> {
    this.cancelling = true
    this.cancelError = null
    try {
      this.run.set(await api.runs.cancel.mutate({ id: this.id }))
    } catch (err) {
      this.cancelError = describeError(err)
    } finally {
      this.cancelling = false
    }
  }
}
