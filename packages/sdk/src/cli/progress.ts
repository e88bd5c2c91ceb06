// The live progress line: k6 prints `running (02.0s), 2/2 VUs, 6 complete …` and
// `default [ 50% ] 2 VUs  2.0s/4s` once a second; the CLI keeps the latest figures.

export interface Progress {
  /** k6's elapsed time as it prints it, e.g. `02.0s`. */
  elapsed?: string
  /** Planned duration of the longest scenario, e.g. `4s` or `30s`. */
  planned?: string
  percent?: number
  vus?: number
  maxVus?: number
  iterations?: number
  interrupted?: number
}

const RUNNING = /^running \(([^)]+)\), (\d+)\/(\d+) VUs, (\d+) complete and (\d+) interrupted iterations/
const SCENARIO = /^\S+\s+\S?\s*\[\s*(\d+)%\s*\]\s+\d+ VUs\s+(\S+?)(?:\/(\S+))?(?:\s|$)/

/** Updates progress from one console line; returns true if the line was a progress line. */
export function updateProgress(p: Progress, text: string): boolean {
  const r = RUNNING.exec(text)
  if (r) {
    p.elapsed = r[1]
    p.vus = Number(r[2])
    p.maxVus = Number(r[3])
    p.iterations = Number(r[4])
    p.interrupted = Number(r[5])
    return true
  }
  const s = SCENARIO.exec(text)
  if (s) {
    p.percent = Number(s[1])
    p.planned = s[3] ?? s[2]
    return true
  }
  return false
}

export function formatProgress(p: Progress, status: string, elapsedMs: number): string {
  const parts = [status]
  const elapsed = `${(elapsedMs / 1000).toFixed(0)}s`
  parts.push(p.planned ? `${elapsed} / ${p.planned}${p.percent !== undefined ? ` (${p.percent}%)` : ''}` : elapsed)
  if (p.vus !== undefined) parts.push(`${p.vus}/${p.maxVus} VUs`)
  if (p.iterations !== undefined) parts.push(`${p.iterations} iterations`)
  return parts.join(' · ')
}
