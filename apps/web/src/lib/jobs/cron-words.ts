// A job's cron expression in words ("Every weekday at 09:00"), computed in the browser for the
// job form and lists. It describes only the common shapes — intervals that divide their unit,
// times of day, weekdays, days of the month — and returns null for anything else, so the UI
// shows the raw expression instead: a wrong sentence is worse than none. Temporal decides the
// real firing times; jobs.preview shows those.
//
// Temporal's syntax: 5 fields (minute hour day-of-month month day-of-week), 6 (+ year) or
// 7 (second first, + year), and the descriptors @yearly, @monthly, @weekly, @daily, @hourly.

export interface CronPreset {
  id: string
  label: string
  cron: string
}

export const CRON_PRESETS: readonly CronPreset[] = [
  { id: 'every-5-minutes', label: 'Every 5 minutes', cron: '*/5 * * * *' },
  { id: 'hourly', label: 'Hourly', cron: '0 * * * *' },
  { id: 'daily', label: 'Daily at 02:00', cron: '0 2 * * *' },
  { id: 'weekdays', label: 'Weekdays at 09:00', cron: '0 9 * * 1-5' },
  { id: 'weekly', label: 'Weekly on Monday at 06:00', cron: '0 6 * * 1' },
]

export const CUSTOM_PRESET = 'custom'

/** The preset an expression is (ignoring spacing), or `custom`. */
export function presetOf(cron: string): string {
  const normalized = cron.trim().split(/\s+/).join(' ')
  return CRON_PRESETS.find((p) => p.cron === normalized)?.id ?? CUSTOM_PRESET
}

type Field = { kind: 'any' } | { kind: 'step'; every: number } | { kind: 'values'; values: number[] }

interface FieldSpec {
  min: number
  max: number
  names?: readonly string[]
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const

const SPECS = {
  second: { min: 0, max: 59 },
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  dayOfMonth: { min: 1, max: 31 },
  month: { min: 1, max: 12, names: MONTH_NAMES.map((m) => m.slice(0, 3).toUpperCase()) },
  // 7 is Sunday too; names are SUN..SAT.
  dayOfWeek: { min: 0, max: 7, names: DAY_NAMES.map((d) => d.slice(0, 3).toUpperCase()) },
  year: { min: 1970, max: 2199 },
} satisfies Record<string, FieldSpec>

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}

class Unsupported extends Error {}

function number(token: string, spec: FieldSpec): number {
  // Names count from the field's first value: JAN is 1, SUN is 0.
  const named = spec.names?.indexOf(token.toUpperCase()) ?? -1
  const value = named >= 0 ? spec.min + named : /^\d+$/.test(token) ? Number(token) : NaN
  if (!Number.isInteger(value) || value < spec.min || value > spec.max) throw new Unsupported(token)
  return value
}

function parseField(text: string, spec: FieldSpec): Field {
  if (text === '*' || text === '?') return { kind: 'any' }
  const step = /^(?:\*|0)\/(\d+)$/.exec(text)
  if (step && spec.min === 0) {
    const every = Number(step[1])
    if (every < 1) throw new Unsupported(text)
    return every === 1 ? { kind: 'any' } : { kind: 'step', every }
  }
  const values = new Set<number>()
  for (const item of text.split(',')) {
    const m = /^([A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(item)
    if (!m) throw new Unsupported(item)
    const from = number(m[1]!, spec)
    const to = m[2] !== undefined ? number(m[2], spec) : m[3] !== undefined ? spec.max : from
    const by = m[3] !== undefined ? Number(m[3]) : 1
    if (to < from || by < 1) throw new Unsupported(item)
    for (let v = from; v <= to; v += by) values.add(v)
  }
  return { kind: 'values', values: [...values].sort((a, b) => a - b) }
}

const pad = (n: number) => String(n).padStart(2, '0')

function ordinal(n: number): string {
  const tens = n % 100
  if (tens >= 11 && tens <= 13) return `${n}th`
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`
}

/** "a", "a and b", "a, b and c". */
function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`
}

const single = (f: Field): number | undefined => (f.kind === 'values' && f.values.length === 1 ? f.values[0] : undefined)
const contiguous = (values: readonly number[]) => values.every((v, i) => i === 0 || v === values[i - 1]! + 1)
const plural = (n: number, unit: string) => (n === 1 ? `Every ${unit}` : `Every ${n} ${unit}s`)

const MAX_TIMES = 6

/** The times-of-day part: either clock times ("at 09:00 and 17:00") or an interval ("Every 5 minutes"). */
function timePart(second: Field, minute: Field, hour: Field): { at: string[] } | { every: string } {
  const sec = single(second)
  if (second.kind === 'values' && minute.kind === 'values' && hour.kind === 'values') {
    const count = second.values.length * minute.values.length * hour.values.length
    if (count <= MAX_TIMES) {
      const withSeconds = second.values.some((s) => s !== 0)
      const times: string[] = []
      for (const h of hour.values) {
        for (const m of minute.values) {
          for (const s of second.values) times.push(`${pad(h)}:${pad(m)}${withSeconds ? `:${pad(s)}` : ''}`)
        }
      }
      return { at: times }
    }
  }
  // Seconds-level intervals: every second or every n seconds, all day.
  if (minute.kind === 'any' && hour.kind === 'any') {
    if (second.kind === 'any') return { every: 'Every second' }
    if (second.kind === 'step' && 60 % second.every === 0) return { every: plural(second.every, 'second') }
  }
  if (sec !== 0) throw new Unsupported('seconds')

  const hoursBetween = (hours: readonly number[], lastMinute: string) => `between ${pad(hours[0]!)}:00 and ${pad(hours.at(-1)!)}:${lastMinute}`
  const min = single(minute)
  if (hour.kind === 'any') {
    if (minute.kind === 'any') return { every: 'Every minute' }
    if (minute.kind === 'step' && 60 % minute.every === 0) return { every: plural(minute.every, 'minute') }
    if (min === 0) return { every: 'Every hour' }
    if (min !== undefined) return { every: `Every hour at ${min} minutes past` }
  }
  if (hour.kind === 'step' && 24 % hour.every === 0 && min !== undefined) {
    return { every: `${plural(hour.every, 'hour')}${min === 0 ? '' : ` at ${min} minutes past`}` }
  }
  if (hour.kind === 'values' && hour.values.length > 1 && contiguous(hour.values)) {
    if (minute.kind === 'any') return { every: `Every minute ${hoursBetween(hour.values, '59')}` }
    if (minute.kind === 'step' && 60 % minute.every === 0) return { every: `${plural(minute.every, 'minute')} ${hoursBetween(hour.values, pad(60 - minute.every))}` }
    if (min !== undefined) return { every: `Every hour from ${pad(hour.values[0]!)}:${pad(min)} to ${pad(hour.values.at(-1)!)}:${pad(min)}` }
  }
  throw new Unsupported('time')
}

type DayPart = { kind: 'daily' } | { kind: 'weekdays'; days: number[] } | { kind: 'monthdays'; days: number[] }

function dayPart(dayOfMonth: Field, dayOfWeek: Field): DayPart {
  if (dayOfMonth.kind === 'step' || dayOfWeek.kind === 'step') throw new Unsupported('day step')
  if (dayOfMonth.kind === 'any' && dayOfWeek.kind === 'any') return { kind: 'daily' }
  if (dayOfMonth.kind === 'values' && dayOfWeek.kind === 'values') throw new Unsupported('day of month and day of week')
  if (dayOfWeek.kind === 'values') {
    const days = [...new Set(dayOfWeek.values.map((d) => d % 7))].sort((a, b) => a - b)
    return days.length === 7 ? { kind: 'daily' } : { kind: 'weekdays', days }
  }
  if (dayOfMonth.kind === 'values' && dayOfMonth.values.length <= 5) return { kind: 'monthdays', days: dayOfMonth.values }
  throw new Unsupported('days of month')
}

const isMondayToFriday = (days: readonly number[]) => days.join() === '1,2,3,4,5'
const isWeekend = (days: readonly number[]) => days.join() === '0,6'
/** Monday first, as people list the week. */
const weekOrder = (days: readonly number[]) => [...days].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7))

function describeFields(fields: { second: string; minute: string; hour: string; dayOfMonth: string; month: string; dayOfWeek: string; year: string }): string {
  const time = timePart(parseField(fields.second, SPECS.second), parseField(fields.minute, SPECS.minute), parseField(fields.hour, SPECS.hour))
  const days = dayPart(parseField(fields.dayOfMonth, SPECS.dayOfMonth), parseField(fields.dayOfWeek, SPECS.dayOfWeek))
  const month = parseField(fields.month, SPECS.month)
  const year = parseField(fields.year, SPECS.year)
  if (month.kind === 'step' || year.kind === 'step') throw new Unsupported('step')

  const months = month.kind === 'values' ? list(month.values.map((m) => MONTH_NAMES[m - 1]!)) : null
  const inMonths = months ? ` in ${months}` : ''
  const inYears = year.kind === 'values' ? ` in ${list(year.values.map(String))}` : ''
  const monthDays = (d: number[]) => `the ${list(d.map(ordinal))} of ${months ?? 'every month'}`

  if ('at' in time) {
    const at = ` at ${list(time.at)}`
    switch (days.kind) {
      case 'daily':
        return `Every day${inMonths}${at}${inYears}`
      case 'weekdays':
        if (isMondayToFriday(days.days)) return `Every weekday${inMonths}${at}${inYears}`
        return `Every ${list(weekOrder(days.days).map((d) => DAY_NAMES[d]!))}${inMonths}${at}${inYears}`
      case 'monthdays':
        return `On ${monthDays(days.days)}${at}${inYears}`
    }
  }
  switch (days.kind) {
    case 'daily':
      return `${time.every}${inMonths}${inYears}`
    case 'weekdays': {
      const on = isMondayToFriday(days.days) ? 'weekdays' : isWeekend(days.days) ? 'weekends' : list(weekOrder(days.days).map((d) => `${DAY_NAMES[d]}s`))
      return `${time.every} on ${on}${inMonths}${inYears}`
    }
    case 'monthdays':
      return `${time.every} on ${monthDays(days.days)}${inYears}`
  }
}

/** The expression in words, or null when this describer cannot say it faithfully. */
export function describeCron(expression: string): string | null {
  const text = expression.trim()
  const expanded = DESCRIPTORS[text.toLowerCase()] ?? text
  const parts = expanded.split(/\s+/)
  try {
    switch (parts.length) {
      case 5:
      case 6: {
        const [minute, hour, dayOfMonth, month, dayOfWeek, year = '*'] = parts as [string, string, string, string, string, string?]
        return describeFields({ second: '0', minute, hour, dayOfMonth, month, dayOfWeek, year })
      }
      case 7: {
        const [second, minute, hour, dayOfMonth, month, dayOfWeek, year] = parts as [string, string, string, string, string, string, string]
        return describeFields({ second, minute, hour, dayOfMonth, month, dayOfWeek, year })
      }
      default:
        return null
    }
  } catch (err) {
    if (err instanceof Unsupported) return null
    throw err
  }
}
