// CPU time of other processes on this machine, from Linux's /proc, for benchmarks that want to
// say where the CPU went (Postgres, Temporal's dev server).
import { readdirSync, readFileSync } from 'node:fs'

/**
 * CPU time (ms, 10 ms ticks) used so far by every process whose command name (as in
 * /proc/<pid>/stat) is `name`, with their exited children's (Postgres's ended backends count in
 * the postmaster's), so that a process ending between two readings takes nothing away.
 */
export function cpuMsOf(name: string): number {
  let ticks = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (!stat.includes(`(${name})`)) continue
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // utime, stime, cutime, cstime
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10
}
