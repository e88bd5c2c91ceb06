// The VU and duration caps a run stays under: the platform's (MAX_VUS, MAX_DURATION_SECONDS) and,
// lower where set, its project's. The API checks them before a run starts (k6 inspect); the runner
// holds them while it runs, whatever the script's options were computed from.

export interface ScriptCaps {
  maxVUs: number
  maxDurationSeconds: number
  /** Whose caps these are, for messages. */
  owner: 'platform' | 'project'
}

/** The caps of a project: its quotas where set, never above the platform's. */
export function capsFor(platform: { maxVUs: number; maxDurationSeconds: number }, project: { maxVus: number | null; maxDurationSeconds: number | null }): ScriptCaps {
  const maxVUs = Math.min(platform.maxVUs, project.maxVus ?? Infinity)
  const maxDurationSeconds = Math.min(platform.maxDurationSeconds, project.maxDurationSeconds ?? Infinity)
  const owner = maxVUs < platform.maxVUs || maxDurationSeconds < platform.maxDurationSeconds ? 'project' : 'platform'
  return { maxVUs, maxDurationSeconds, owner }
}

/** "this project" or "this platform". */
export const capsOwner = (caps: Pick<ScriptCaps, 'owner'>): string => (caps.owner === 'project' ? 'this project' : 'this platform')

/** "5 min", "90 s". */
export const formatSeconds = (s: number): string => (s % 60 === 0 ? `${s / 60} min` : `${s} s`)
