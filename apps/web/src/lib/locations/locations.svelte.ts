// Configured locations with their runner presence, refreshed every few seconds while a page
// shows them: a runner that starts or stops shows up without a reload. A failed refresh keeps
// the last list (marked stale by `error`) rather than blanking the page.
import { api, type RouterOutputs } from '../api/client.ts'
import { Query } from '../api/query.svelte.ts'

export type Location = RouterOutputs['locations']['list'][number]

export const PRESENCE_REFRESH_MS = 5000

export class LocationsPoll {
  readonly query = new Query((signal) => api.locations.list.query(undefined, { signal }))

  constructor(private readonly intervalMs = PRESENCE_REFRESH_MS) {}

  get list(): Location[] | undefined {
    return this.query.data
  }

  /** Loads now and then every interval; returns the function that stops (for `$effect`). */
  start(): () => void {
    void this.query.load()
    const timer = setInterval(() => {
      // A hidden tab does not need fresh presence; it refreshes when shown again.
      if (document.visibilityState !== 'hidden') void this.query.load()
    }, this.intervalMs)
    return () => {
      clearInterval(timer)
      this.query.abort()
    }
  }
}

/** The location to preselect: the remembered one while it exists, else one with a runner, else the first. */
export function preferredLocation(list: readonly Pick<Location, 'id' | 'runnerAvailable'>[], current: string | null | undefined): string {
  if (current && list.some((l) => l.id === current)) return current
  return (list.find((l) => l.runnerAvailable) ?? list[0])?.id ?? ''
}

const LOCATION_KEY = 'stampede.location'

/** The location this browser last ran from, so the next run starts from the same place. */
export function rememberedLocation(): string | null {
  try {
    return localStorage.getItem(LOCATION_KEY)
  } catch {
    return null
  }
}

export function rememberLocation(id: string): void {
  try {
    if (id) localStorage.setItem(LOCATION_KEY, id)
  } catch {
    // Storage can be unavailable; the choice then lasts as long as the page.
  }
}
