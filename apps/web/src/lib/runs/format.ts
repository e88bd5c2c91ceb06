// How numbers from k6 read on screen: durations in ms/s, rates per second, ratios as percent;
// a missing value (k6 did not report it) is an em dash, never 0.
const MISSING = '—'

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return MISSING
  if (ms < 1) return `${ms.toFixed(2)} ms`
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`
  const minutes = Math.floor(ms / 60_000)
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`
}

export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? MISSING : Math.round(n).toLocaleString('en-US')
}

export function formatRate(perSecond: number | null | undefined): string {
  return perSecond === null || perSecond === undefined || !Number.isFinite(perSecond) ? MISSING : `${perSecond.toFixed(perSecond < 10 ? 2 : 1)}/s`
}

export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return MISSING
  const percent = ratio * 100
  return `${percent === 0 || percent >= 10 ? percent.toFixed(0) : percent.toFixed(2)}%`
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return MISSING
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? MISSING : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
}

export type ConsoleTone = 'error' | 'warning' | 'ok' | 'heading' | 'plain'

/**
 * How a console line should stand out. k6 writes all of its log lines, info included, to
 * stderr, so the stream says nothing; k6's own `level=` field, its check marks (✓ passed,
 * ✗ failed or crossed, in the end-of-test summary too) and its summary headings (█) do.
 */
export function consoleTone(text: string): ConsoleTone {
  if (/\blevel=(?:error|fatal)\b/.test(text) || /^\s*[✗✘] /.test(text)) return 'error'
  if (/\blevel=warning\b/.test(text)) return 'warning'
  if (/^\s*[✓✔] /.test(text)) return 'ok'
  if (/^\s*█ /.test(text)) return 'heading'
  return 'plain'
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return MISSING
  if (n < 1024) return `${Math.round(n)} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
}

/** A running clock: `0:07`, `12:30`, `1:02:03`. */
export function formatElapsed(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return MISSING
  const total = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

/** Checks as "passed of total", e.g. `98 / 100`; a dash when the script made none. */
export function formatChecks(passed: number | null | undefined, failed: number | null | undefined): string {
  if ((passed ?? null) === null && (failed ?? null) === null) return MISSING
  const p = passed ?? 0
  const total = p + (failed ?? 0)
  return total === 0 ? MISSING : `${formatCount(p)} / ${formatCount(total)}`
}

/** How long ago, coarsely: `just now`, `5 min ago`, `3 h ago`, `2 days ago`; older is a date. */
export function formatAgo(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return MISSING
  const then = new Date(iso).getTime()
  if (Number.isNaN(then)) return MISSING
  const s = Math.round((now - then) / 1000)
  if (s < 45) return 'just now'
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`
  if (s < 7 * 86_400) return `${Math.round(s / 86_400)} day${Math.round(s / 86_400) === 1 ? '' : 's'} ago`
  return new Date(then).toLocaleDateString(undefined, { dateStyle: 'medium' })
}

const COUNTERS = new Set(['http_reqs', 'iterations', 'data_sent', 'data_received', 'dropped_iterations'])

/** A threshold's measured value in the threshold's own terms: ms for timings, % for rates, /s for counter rates. */
export function formatThresholdActual(metric: string, expression: string, actual: number | null | undefined): string {
  if (actual === null || actual === undefined || !Number.isFinite(actual)) return MISSING
  const base = metric.replace(/\{.*$/, '')
  const aggregation = /^\s*([a-z]+)/.exec(expression)?.[1] ?? ''
  if (aggregation === 'rate') return COUNTERS.has(base) ? formatRate(actual) : formatPercent(actual)
  if (aggregation === 'count') return formatCount(actual)
  const timing = /duration|^http_req_(?!failed)|_time$|_waiting$|_connecting$|_blocked$/.test(base)
  if (timing && ['avg', 'min', 'max', 'med', 'p'].includes(aggregation)) return formatDuration(actual)
  return Number.isInteger(actual) ? String(actual) : actual.toFixed(3)
}
