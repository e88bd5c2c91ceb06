// A lock file so that two resolutions running at once (two terminals, parallel test workers)
// build a tool once: the second waits for the first and then finds the result in the cache.
// A lock whose owner process no longer exists is taken over.
import path from 'node:path'
import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

export interface LockOptions {
  log: (line: string) => void
  /** How long to wait for another holder before giving up (builds take minutes). */
  timeoutMs?: number
  pollMs?: number
}

export async function withLock<T>(lockFile: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  await acquire(lockFile, opts)
  try {
    return await fn()
  } finally {
    await rm(lockFile, { force: true })
  }
}

async function acquire(lockFile: string, opts: LockOptions): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000)
  const pollMs = opts.pollMs ?? 500
  let lastNotice = 0
  await mkdir(path.dirname(lockFile), { recursive: true })
  for (;;) {
    try {
      const fh = await open(lockFile, 'wx')
      await fh.writeFile(`${process.pid}\n${new Date().toISOString()}\n`)
      await fh.close()
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const owner = await lockOwner(lockFile)
    if (owner !== undefined && !isAlive(owner)) {
      opts.log(`removing stale lock ${lockFile} (process ${owner} is gone)`)
      await rm(lockFile, { force: true })
      continue
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${lockFile} (held by process ${owner ?? 'unknown'}); remove it if no build is running`)
    }
    if (Date.now() - lastNotice > 30_000) {
      opts.log(`waiting for another build to finish (lock ${lockFile}, process ${owner ?? 'unknown'})`)
      lastNotice = Date.now()
    }
    await sleep(pollMs)
  }
}

async function lockOwner(lockFile: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(lockFile, 'utf8')).split('\n')[0] ?? '', 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
