// Times on the jobs pages. A job's cron is read in its own IANA time zone, so its firing times are
// shown in that zone (with the zone's abbreviation) next to a relative "in 3 min"; the date-time
// fields of the form and of backfill are wall-clock times in that zone too, converted here.
const MISSING = '—'

/** "in 4 s", "3 min ago", "now"; coarse on purpose, for lists that tick every second. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return MISSING
  const at = new Date(iso).getTime()
  if (Number.isNaN(at)) return MISSING
  const seconds = Math.round((at - now) / 1000)
  const abs = Math.abs(seconds)
  if (abs < 1) return 'now'
  const [amount, unit] =
    abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.floor(abs / 60), 'min'] : abs < 86_400 ? [Math.floor(abs / 3600), 'h'] : [Math.floor(abs / 86_400), abs < 2 * 86_400 ? 'day' : 'days']
  return seconds > 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`
}

/** An instant as a wall-clock time in `timeZone`, with the zone's abbreviation: "Mon, Jan 5, 2026, 02:00:00 GMT+1". */
export function formatInZone(iso: string | null | undefined, timeZone: string, locale?: string): string {
  if (!iso) return MISSING
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return MISSING
  const options: Intl.DateTimeFormatOptions = {
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }
  try {
    return date.toLocaleString(locale, { ...options, timeZone })
  } catch {
    // An unknown zone (an old job, a browser without it): the browser's own zone still says when.
    return date.toLocaleString(locale, options)
  }
}

/** Milliseconds between two instants, or null while the second is missing. */
export function elapsedMs(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null
  const ms = new Date(to).getTime() - new Date(from).getTime()
  return Number.isFinite(ms) ? Math.max(0, ms) : null
}

export function isTimeZone(timeZone: string): boolean {
  if (!timeZone.trim()) return false
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
    return true
  } catch {
    return false
  }
}

/** The browser's own zone, the default for a new job. */
export function browserTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone
  return zone && isTimeZone(zone) ? zone : 'UTC'
}

const COMMON_ZONES = ['UTC', 'America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'America/Sao_Paulo', 'Europe/London', 'Europe/Berlin', 'Europe/Paris', 'Africa/Johannesburg', 'Asia/Dubai', 'Asia/Kolkata', 'Asia/Singapore', 'Asia/Shanghai', 'Asia/Tokyo', 'Australia/Sydney', 'Pacific/Auckland']

/** Every zone the browser knows (UTC first), or a short list where it cannot say. */
export function timeZones(supported: (() => string[]) | undefined = supportedZones()): string[] {
  const zones = supported?.() ?? COMMON_ZONES
  return ['UTC', ...zones.filter((z) => z !== 'UTC')]
}

function supportedZones(): (() => string[]) | undefined {
  const intl = Intl as { supportedValuesOf?: (key: 'timeZone') => string[] }
  return intl.supportedValuesOf ? () => intl.supportedValuesOf!('timeZone') : undefined
}

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in ms. */
function zoneOffset(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(instant)
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value)
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'))
  return wall - Math.floor(instant / 1000) * 1000
}

/**
 * A `datetime-local` value (`2026-01-31T02:00`) read as a wall-clock time in `timeZone`, as ISO
 * 8601; undefined for an empty or malformed value. A time that a clock change skips moves
 * forward by the change (02:30 on a spring-forward night is 03:30).
 */
export function wallTimeToIso(value: string, timeZone: string): string | undefined {
  const m = WALL_TIME.exec(value.trim())
  if (!m || !isTimeZone(timeZone)) return undefined
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number]
  const wall = Date.UTC(year, month - 1, day, hour, minute, second)
  if (Number.isNaN(wall)) return undefined
  // The zone's offset at the guess, then again at the corrected instant (they differ near a change).
  const first = wall - zoneOffset(wall, timeZone)
  const corrected = wall - zoneOffset(first, timeZone)
  return new Date(zoneOffset(corrected, timeZone) === zoneOffset(first, timeZone) ? corrected : Math.max(first, corrected)).toISOString()
}

/** The inverse: an instant as a `datetime-local` value in `timeZone` (minutes precision). */
export function isoToWallTime(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return ''
  const instant = new Date(iso).getTime()
  if (Number.isNaN(instant) || !isTimeZone(timeZone)) return ''
  return new Date(instant + zoneOffset(instant, timeZone)).toISOString().slice(0, 16)
}
