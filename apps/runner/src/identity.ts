// A runner's identity: a short id kept in its work directory, so a runner restarted on the same
// directory is the same runner — it serves the same own queue (runnerQueueFor) and finds the run
// directories it left there.
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

const ID_FILE = 'runner-id'
const ID_PATTERN = /^[a-z0-9-]{4,64}$/

export async function runnerIdentity(workDir: string, configured?: string): Promise<string> {
  if (configured) {
    if (!ID_PATTERN.test(configured)) throw new Error(`RUNNER_ID "${configured}" must be 4 to 64 characters of a-z, 0-9 and -`)
    return configured
  }
  const file = path.join(workDir, ID_FILE)
  const existing = await readFile(file, 'utf8').then((t) => t.trim(), () => undefined)
  if (existing && ID_PATTERN.test(existing)) return existing
  const id = randomBytes(6).toString('hex')
  // `wx`: two runners started at once on one directory must not both believe they own it.
  await writeFile(file, id + '\n', { flag: 'wx', mode: 0o600 }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err
  })
  return (await readFile(file, 'utf8')).trim()
}
