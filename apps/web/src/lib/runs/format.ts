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

export type ConsoleTone = 'error' | 'warning' | 'plain'

/**
 * How a console line should stand out. k6 writes all of its log lines, info included, to
 * stderr, so the stream says nothing; k6's own `level=` field and failed-check marks do.
 */
export function consoleTone(text: string): ConsoleTone {
  if (/\blevel=(?:error|fatal)\b/.test(text) || /^\s*✗ /.test(text)) return 'error'
  if (/\blevel=warning\b/.test(text)) return 'warning'
  return 'plain'
}
