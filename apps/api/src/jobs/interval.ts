// The minimum interval between a job's firings (JOB_MIN_INTERVAL_SECONDS), judged from firing
// times Temporal itself computes: its next 1000 firings, and the firings around each clock change
// of the job's time zone in the coming year (where a daylight-saving shift can bring two firings
// closer than they are on any other day).

/** How many firings Temporal lists at most per ListScheduleMatchingTimes call. */
export const MATCHING_TIMES_LIMIT = 1000
/** How far ahead the firings are looked at. */
export const LOOKAHEAD_MS = 2 * 366 * 24 * 3600 * 1000

/** The two firings closest together. */
export interface ClosestFirings {
  seconds: number
  first: Date
  second: Date
  /** Every gap between the coming firings (the first run) is this one: the schedule fires at a fixed pace. */
  uniform: boolean
}

const gaps = (times: readonly Date[]) => times.slice(1).map((t, i) => ({ ms: t.getTime() - times[i]!.getTime(), first: times[i]!, second: t }))

/**
 * The closest pair of consecutive firings over several runs of firing times (each run in
 * ascending order, as Temporal lists them; gaps are taken within a run only). The first run is
 * the coming firings, the others windows around clock changes. Null when no run has two firings.
 */
export function closestFirings(runs: readonly (readonly Date[])[]): ClosestFirings | null {
  let best: ClosestFirings | null = null
  for (const times of runs) {
    for (const gap of gaps(times)) {
      if (gap.ms > 0 && (!best || gap.ms < best.seconds * 1000)) best = { seconds: gap.ms / 1000, first: gap.first, second: gap.second, uniform: false }
    }
  }
  const coming = gaps(runs[0] ?? [])
  if (best) best.uniform = coming.length > 0 && coming.every((g) => g.ms === best.seconds * 1000)
  return best
}

/** `90` → "90 s", `120` → "2 min", `7200` → "2 h": a whole unit when it divides evenly, else seconds. */
export function formatSeconds(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`
  if (seconds >= 120 && seconds % 60 === 0) return `${seconds / 60} min`
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`
}

/**
 * Why `cron` fires too often for a minimum of `minSeconds` between firings, as the message of
 * a BAD_REQUEST on the `cron` field; null when its closest firings are far enough apart.
 */
export function intervalProblem(cron: string, timezone: string, closest: ClosestFirings | null, minSeconds: number): string | null {
  if (!closest || closest.seconds >= minSeconds) return null
  const pace = closest.uniform
    ? `fires every ${formatSeconds(closest.seconds)}`
    : `has firings only ${formatSeconds(closest.seconds)} apart (${closest.first.toISOString()} and ${closest.second.toISOString()}${timezone === 'UTC' ? '' : `, time zone ${timezone}`})`
  return `cron: "${cron}" ${pace}; jobs may fire at most once every ${formatSeconds(minSeconds)} (JOB_MIN_INTERVAL_SECONDS=${minSeconds}). Choose a schedule whose firings are at least ${formatSeconds(minSeconds)} apart`
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>()

/** The UTC offset of `timezone` at `at`, in minutes (Intl's own zone data). */
export function utcOffsetMinutes(timezone: string, at: Date): number {
  let format = offsetFormats.get(timezone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' })
    if (offsetFormats.size > 500) offsetFormats.clear()
    offsetFormats.set(timezone, format)
  }
  const name = format.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT'
  const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name)
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0
}

/** The instants in [from, to) at which `timezone`'s UTC offset changes, to the second. */
export function clockChanges(timezone: string, from: Date, to: Date): Date[] {
  const changes: Date[] = []
  const step = 24 * 3600 * 1000
  let before = from.getTime()
  let offset = utcOffsetMinutes(timezone, from)
  while (before < to.getTime()) {
    const after = Math.min(before + step, to.getTime())
    const next = utcOffsetMinutes(timezone, new Date(after))
    if (next !== offset) {
      // The offset changes in (before, after]: narrow it down to the second.
      let lo = before
      let hi = after
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000
        if (utcOffsetMinutes(timezone, new Date(mid)) === offset) lo = mid
        else hi = mid
      }
      changes.push(new Date(hi))
      offset = next
    }
    before = after
  }
  return changes
}

/**
 * The windows to ask Temporal about: the coming firings, and around each clock change of the
 * coming year. A pair of firings closer than `minSeconds` across a change lies within
 * `minSeconds` of it on both sides.
 */
export function firingWindows(timezone: string, now: Date, minSeconds: number): { start: Date; end: Date }[] {
  const year = new Date(now.getTime() + 366 * 24 * 3600 * 1000)
  const margin = (minSeconds + 3600) * 1000
  return [
    { start: now, end: new Date(now.getTime() + LOOKAHEAD_MS) },
    ...clockChanges(timezone, now, year).map((t) => ({ start: new Date(Math.max(now.getTime(), t.getTime() - margin)), end: new Date(t.getTime() + margin) })),
  ]
}
