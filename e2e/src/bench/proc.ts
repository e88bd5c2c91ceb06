// The processes of this machine as Linux's /proc shows them, for benchmarks and soak tests that
// measure or clean up processes they did not start themselves (k6 under a runner, Postgres,
// Temporal's dev server, what `npm run dev` started).
import { readdir, readFile, readlink } from 'node:fs/promises'

export interface Proc {
  pid: number
  ppid: number
  /** The command name (/proc/<pid>/comm; at most 15 characters). */
  comm: string
  /** Start time in clock ticks since boot: with the pid, names a process even after pid reuse. */
  start: string
  /** CPU time (ms, 10 ms ticks) so far, with its exited children's (Postgres's ended backends count in the postmaster's). */
  cpuMs: number
}

/** Every process now (those that exit while being read are left out). */
export async function readProcs(): Promise<Proc[]> {
  const procs: Proc[] = []
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => undefined)
    if (!stat) continue
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read from the last ')'.
    const close = stat.lastIndexOf(')')
    const f = stat.slice(close + 2).split(' ')
    // utime, stime, cutime, cstime are fields 14–17, starttime 22 (f[0] is field 3).
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])
    procs.push({ pid: Number(name), ppid: Number(f[1]), comm: stat.slice(stat.indexOf('(') + 1, close), start: f[19]!, cpuMs: ticks * 10 })
  }
  return procs
}

/** The processes below `pid` in `all` (children, their children …), nearest first. */
export function below<P extends Proc>(all: readonly P[], pid: number): P[] {
  const out = all.filter((p) => p.ppid === pid)
  for (let i = 0; i < out.length; i++) out.push(...all.filter((p) => p.ppid === out[i]!.pid))
  return out
}

/** CPU time (ms) used so far by every process whose command name is `name` (see Proc.cpuMs). */
export async function cpuMsOf(name: string): Promise<number> {
  return (await readProcs()).filter((p) => p.comm === name).reduce((sum, p) => sum + p.cpuMs, 0)
}

/** A process's resident set size in bytes (VmRSS of /proc/<pid>/status), or undefined once it has exited. */
export async function procRss(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined)
  const kb = status && /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]
  return kb ? Number(kb) * 1024 : undefined
}

/** A process's command line ('[<executable>]' for one without, as a kernel thread), '' once it has exited. */
export async function procCmdline(pid: number): Promise<string> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
  return cmdline.split('\0').join(' ').trim() || `[${await readlink(`/proc/${pid}/exe`).catch(() => '?')}]`
}
