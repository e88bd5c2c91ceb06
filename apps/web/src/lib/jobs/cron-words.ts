// A job's cron expression in words ("At 09:00, Monday through Friday"), computed in the browser
// for the job form and lists. cronstrue (a maintained library) does the parsing and the wording;
// this module only adapts Temporal's syntax to it and keeps the schedule presets. Anything
// cronstrue refuses yields null, so the UI shows the raw expression instead. Temporal decides the
// real firing times; jobs.preview shows those.
//
// Temporal's syntax: 5 fields (minute hour day-of-month month day-of-week), 6 (+ year) or
// 7 (second first, + year), and the descriptors @yearly, @monthly, @weekly, @daily, @hourly.
import cronstrue from 'cronstrue'

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

/** The expression in words, or null when cronstrue cannot read it. */
export function describeCron(expression: string): string | null {
  const parts = expression.trim().split(/\s+/)
  // cronstrue knows the descriptors in lower case only; accept @Daily as well.
  if (parts.length === 1 && parts[0]!.startsWith('@')) parts[0] = parts[0]!.toLowerCase()
  // Temporal's 6 fields end with the year; cronstrue would take a 6th field that is not a
  // 4-digit year (say `*`) for seconds first, so give it the 7-field form instead.
  if (parts.length === 6) parts.unshift('0')
  try {
    return cronstrue.toString(parts.join(' '), { use24HourTimeFormat: true, throwExceptionOnParseError: true, verbose: false })
  } catch {
    // cronstrue throws on anything it cannot parse (too few fields, out-of-range values, unknown
    // descriptors such as @every).
    return null
  }
}
