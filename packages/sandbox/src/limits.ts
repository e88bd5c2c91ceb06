// Limits on one k6 process, enforced by the kernel as resource limits (setrlimit through
// util-linux `prlimit`), so they hold whatever the script does and need no cgroup delegation:
// - memory: resident memory, checked every 100 ms by the process that started k6 (process.ts),
//   which kills k6 past the limit; and RLIMIT_AS as the kernel's backstop for allocations faster
//   than that check. Go reserves address space it never touches (k6 v2.2.0 idles at about
//   1.3 GiB of address space with 40 MB resident; below about 1.3 GiB even `k6 version` fails now
//   and then), so the address-space limit is the memory limit plus GO_RESERVE; past it k6 fails an
//   allocation ("fatal error: runtime: out of memory").
// - CPU seconds: RLIMIT_CPU with soft = hard, so the kernel sends SIGKILL (validation only).
// - threads: RLIMIT_NPROC, counted per user: it only means something when the sandbox runs under
//   a user of its own (the platform started as root), see sandbox.ts.
// - file size: RLIMIT_FSIZE on every file k6 writes (summary, report, metrics): a write past it
//   fails with EFBIG (Go ignores SIGXFSZ).
import type { K6ProcessLimits } from '@stampede/shared/platform-config'

/** Memory (bytes), CPU seconds (validation only), threads and file size (bytes) of one k6 process: the platform's configuration (K6_RUN_MEMORY_MB, …). */
export type K6Limits = K6ProcessLimits

/** Address space the Go runtime reserves without using it; added to the memory limit. */
export const GO_RESERVE_BYTES = 2 * 1024 * 1024 * 1024

export const MiB = 1024 * 1024

/** `prlimit` options for these limits. */
export function prlimitArgs(limits: K6Limits, opts: { threads: boolean }): string[] {
  return [
    `--as=${limits.memoryBytes + GO_RESERVE_BYTES}`,
    `--fsize=${limits.fileBytes}`,
    '--core=0',
    ...(limits.cpuSeconds === undefined ? [] : [`--cpu=${limits.cpuSeconds}`]),
    ...(opts.threads ? [`--nproc=${limits.threads}`] : []),
  ]
}

/** "512 MB", "4 GB": how limits are named in messages (the configuration takes megabytes). */
export function formatBytes(bytes: number): string {
  if (bytes < MiB) return `${Math.round(bytes / 1024)} KB`
  const mb = bytes / MiB
  if (mb >= 1024 && mb % 1024 === 0) return `${mb / 1024} GB`
  return `${Math.round(mb * 10) / 10} MB`
}

export type LimitName = 'memory' | 'cpu' | 'threads' | 'file-size'

export interface LimitHit {
  limit: LimitName
  /** Says which limit, its value and the setting that changes it. */
  message: string
}

export interface LimitSettings {
  /** The environment variable that sets each limit, named in messages. */
  memory: string
  cpu?: string
  threads: string
  fileSize: string
}

/**
 * Which limit ended k6, read from how it ended: Go's own fatal errors on stderr for memory and
 * threads, SIGKILL after the CPU limit (SIGXCPU is only sent between soft and hard limits, which
 * are equal here). File-size hits are found by the caller from the files' sizes (k6 goes on).
 */
export function limitFromExit(
  stderr: readonly string[],
  exit: { code: number | null; signal: NodeJS.Signals | null; rssLimitHit?: number },
  limits: K6Limits,
  settings: LimitSettings,
  opts: { killedByPlatform?: boolean } = {},
): LimitHit | undefined {
  const text = stderr.join('\n')
  if (exit.rssLimitHit !== undefined || /fatal error: (runtime: )?out of memory|runtime: out of memory|failed to reserve page summary memory|cannot allocate memory/i.test(text)) {
    return { limit: 'memory', message: `k6 ran out of memory: it may use at most ${formatBytes(limits.memoryBytes)} (${settings.memory}). Use fewer VUs, smaller data, or ask the operator to raise the limit.` }
  }
  if (/failed to create new OS thread|newosproc|resource temporarily unavailable.*thread/i.test(text)) {
    return { limit: 'threads', message: `k6 reached the thread limit of ${limits.threads} (${settings.threads}).` }
  }
  if (limits.cpuSeconds !== undefined && exit.signal === 'SIGKILL' && !opts.killedByPlatform) {
    return { limit: 'cpu', message: `k6 used its CPU time limit of ${limits.cpuSeconds} s${settings.cpu ? ` (${settings.cpu})` : ''}; look for an endless or very long loop in the init code (outside the default function).` }
  }
  return undefined
}

/** A file that reached the file-size limit (k6 could not write all of it). */
export function fileSizeHit(file: string, size: number, limits: K6Limits, settings: LimitSettings): LimitHit | undefined {
  if (size < limits.fileBytes) return undefined
  return { limit: 'file-size', message: `k6 wrote ${file} up to the file size limit of ${formatBytes(limits.fileBytes)} (${settings.fileSize}); the rest was not written. Write less (for example a smaller handleSummary output).` }
}
