// One sandbox for every k6 process the platform starts (the runner's `k6 run`, the API's
// `k6 inspect`): bubblewrap (Linux namespaces, no privileges needed) builds a world that holds only
// k6, CA certificates and name-resolution files, read-only; the process's private directory at
// SANDBOX_WORK_DIR, read-only but for the output files k6 is meant to write; fresh /proc, /dev and
// /tmp; new user, PID, IPC, UTS and cgroup namespaces; no capabilities, no nested user namespaces,
// a new session (no terminal to inject into), and it dies with its parent. A run's network
// namespace is the host's: k6 must reach its targets. What it may reach is the target policy's job
// (k6's blacklistIPs/blockHostnames flags); the platform's own services sit in a loopback range
// that policy always refuses. Validation (`k6 inspect`) gets a network namespace of its own with
// nothing in it: loading a script needs no network, and remote modules are never fetched.
//
// When the platform runs as root, each private directory gets a host user of its own (a random
// high uid, never a real account) that owns it and runs k6: runs cannot read each other's files
// even outside their mount namespaces, k6 never runs as host root, and the thread limit
// (RLIMIT_NPROC, counted per user) applies to that one k6 alone.
//
// The operator may turn the sandbox off (K6_SANDBOX=off) on machines without user namespaces;
// that is logged loudly and reported by /healthz. The resource limits still apply then.
import { execFile } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { constants } from 'node:fs'
import { access, chmod, chown, copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { launcher } from './launcher.ts'
import { k6Invocation, type K6Invocation, type K6InvocationRequest, type K6ScriptFile } from './invocation.ts'
import { checkFilePath } from '@stampede/shared/files'
import { K6_OUTPUTS, SANDBOX_K6_PATH, SANDBOX_WORK_DIR, TEST_DIR, k6Environment } from './layout.ts'
import { prlimitArgs, type K6Limits, MiB } from './limits.ts'

export type SandboxMode = 'bubblewrap' | 'off'

export interface SandboxOptions {
  mode: SandboxMode
  /** The k6 binary on the host. */
  k6BinPath: string
  /** Where private directories are made; created if missing (mode 0711). */
  root: string
  log?: (line: string) => void
  /** Where bwrap and prlimit are looked for. */
  searchPath?: readonly string[]
}

export interface SandboxStatus {
  mode: SandboxMode
  /** One line for /healthz and logs. */
  detail: string
  /** Whether the thread limit applies (it needs a user per sandbox, so a platform started as root). */
  threadsLimited: boolean
}

/** The sandbox cannot be used here; the message says why and what to do. */
export class SandboxUnavailableError extends Error {
  override name = 'SandboxUnavailableError'
}

/** One k6 process's private directory. */
export interface PrivateDir {
  /**
   * On the host: the directory this process owns, holding `path` and the platform's own files for
   * it (a run's console log), which k6 must not see: a script that could tell a run from a
   * validation by the files beside it could compute different options in each. Remove it when done.
   */
  readonly base: string
  /** k6's directory on the host. */
  readonly path: string
  /** As k6 sees it. */
  readonly k6Path: string
  /** The host user that owns the directory and runs k6 (only when the platform runs as root). */
  readonly owner?: { uid: number; gid: number }
}

/**
 * One of a test's files to lay out in k6's directory: its stored path, and how its bytes get to
 * the host path `target` (a new file: write it with flag `wx`, mode 0600).
 */
export interface LayoutFile {
  path: string
  write(target: string): Promise<void>
}

/** A LayoutFile of bytes at hand, or read when it is laid out. */
export const bytesFile = (path: string, bytes: Uint8Array | (() => Promise<Uint8Array>)): LayoutFile => ({
  path,
  write: async (target) => writeFile(target, typeof bytes === 'function' ? await bytes() : bytes, { mode: 0o600, flag: 'wx' }),
})

export interface K6Command {
  dir: PrivateDir
  /** What k6 is asked to do (invocation.ts): its arguments and environment follow from it. */
  invocation: K6InvocationRequest
  limits: K6Limits
  /** Files in the directory k6 may write (created empty by prepare or seal); everything else is read-only. */
  writable?: readonly string[]
}

/** What to spawn, as child_process.spawn takes it. */
export interface SpawnPlan {
  file: string
  args: string[]
  env: Record<string, string>
  cwd: string
  uid?: number
  gid?: number
  /** k6 runs as the child of the spawned process (bwrap), not as the process itself. */
  sandboxed: boolean
}

const DEFAULT_SEARCH_PATH = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin']
/** Name resolution: what Go's resolver reads. Bound read-only where they exist. */
const RESOLVER_FILES = ['/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf', '/etc/host.conf']
/** CA bundles, the files Go looks for on Linux (crypto/x509 root_linux.go); each bound at its own path. */
const CA_FILES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
]
/** The user k6 is inside the sandbox. */
const SANDBOX_UID = '65534'
/** Host users for sandboxes: far above real accounts, container sub-uid ranges and systemd's dynamic users. */
const OWNER_UID_MIN = 1_000_000_000
const OWNER_UID_MAX = 2_000_000_000
const PROBE_TIMEOUT_MS = 15_000

export class K6Sandbox {
  private constructor(
    readonly mode: SandboxMode,
    readonly root: string,
    /** The k6 binary as bound into the sandbox (a reachable copy when the original is not). */
    private readonly k6: string,
    private readonly tools: { bwrap: string; prlimit: string } | { bwrap?: undefined; prlimit?: string },
    private readonly ownUsers: boolean,
    private readonly binds: string[],
  ) {}

  /**
   * Checks that the sandbox works here by running `k6 version` in it; throws
   * SandboxUnavailableError saying what is missing otherwise. With mode `off`, warns loudly.
   */
  static async create(opts: SandboxOptions): Promise<K6Sandbox> {
    // Every k6 process starts through the launcher (launcher.ts): start it now, not at the first run.
    launcher.warm()
    const log = opts.log ?? ((line: string) => console.warn(line))
    const search = opts.searchPath ?? DEFAULT_SEARCH_PATH
    const prlimit = await findExecutable('prlimit', search)
    const root = path.resolve(opts.root)
    await mkdir(root, { recursive: true, mode: 0o711 })
    if (opts.mode === 'off') {
      log('WARNING: K6_SANDBOX=off: k6 runs WITHOUT the sandbox. Scripts can read every file this process can read and see its environment. Use this only where every script author is trusted.')
      if (!prlimit) log('WARNING: prlimit (util-linux) was not found: k6 runs without memory, file-size and CPU limits.')
      return new K6Sandbox('off', root, opts.k6BinPath, prlimit ? { prlimit } : {}, false, [])
    }
    const bwrap = await findExecutable('bwrap', search)
    if (!bwrap) {
      throw new SandboxUnavailableError(
        `bubblewrap (bwrap) is not installed, and every k6 process runs in its sandbox. Install it (Debian/Ubuntu: apt-get install bubblewrap; \`npm run dev\` and \`npm test\` do this when run as root), or set K6_SANDBOX=off to run k6 unsandboxed (only where every script author is trusted).`,
      )
    }
    if (!prlimit) throw new SandboxUnavailableError('prlimit (util-linux) is not installed; it sets the k6 sandbox\'s memory, file-size, CPU and thread limits. Install util-linux.')
    const ownUsers = process.getuid?.() === 0
    await chmod(root, 0o711)
    let k6 = path.resolve(opts.k6BinPath)
    if (ownUsers) {
      const blocked = await unreachable(root)
      if (blocked) {
        throw new SandboxUnavailableError(`${root} is where k6 sandboxes get their directories, but ${blocked}; the sandbox's unprivileged user cannot reach it. Choose a directory under a world-traversable path (e.g. under /tmp or /var/lib).`)
      }
      // The sandbox's user must be able to reach and execute k6; a checkout under a private home
      // directory is not reachable, so k6 is copied next to the sandboxes' directories then.
      if (await unreachable(k6, 0o005)) k6 = await stageCopy(k6, path.join(root, '.k6'))
    }
    const binds = [...(await existing(RESOLVER_FILES)), ...(await existing(CA_FILES))]
    const sandbox = new K6Sandbox('bubblewrap', root, k6, { bwrap, prlimit }, ownUsers, binds)
    await sandbox.probe()
    return sandbox
  }

  status(): SandboxStatus {
    if (this.mode === 'off') return { mode: 'off', detail: 'k6 runs WITHOUT the sandbox (K6_SANDBOX=off): scripts can read what the platform can read', threadsLimited: false }
    return {
      mode: 'bubblewrap',
      detail: `k6 runs in a bubblewrap sandbox${this.ownUsers ? ', each under a user of its own' : '; the thread limit needs the platform to run as root and is not applied'}`,
      threadsLimited: this.ownUsers,
    }
  }

  /** A fresh private directory for one k6 process, readable only by it (and the platform). */
  async makeDir(prefix: string): Promise<PrivateDir> {
    const base = await mkdtemp(path.join(this.root, prefix))
    // With a user per sandbox, that user passes through `base` to its own directory but cannot
    // list it or read the platform's files there (0600).
    await chmod(base, this.ownUsers ? 0o711 : 0o700)
    const dir = path.join(base, 'k6')
    await mkdir(dir, { mode: 0o700 })
    if (this.mode === 'off') return { base, path: dir, k6Path: dir }
    if (!this.ownUsers) return { base, path: dir, k6Path: SANDBOX_WORK_DIR }
    const uid = randomInt(OWNER_UID_MIN, OWNER_UID_MAX)
    await chown(dir, uid, uid)
    return { base, path: dir, k6Path: SANDBOX_WORK_DIR, owner: { uid, gid: uid } }
  }

  /** k6's arguments and environment for `request` in this directory (the same for validation and runs but for the purpose's own). */
  invocation(dir: PrivateDir, request: K6InvocationRequest): K6Invocation {
    return k6Invocation(request, dir.k6Path)
  }

  /**
   * Writes the test into the directory's test folder (TEST_DIR): the entry (the script, or a k6
   * archive) and the test's files at their stored paths; then every file k6 may write (K6_OUTPUTS,
   * empty) beside that folder, and seals it: validation and runs give k6 the same directory,
   * whatever the run writes. Which files k6 may write is K6Command.writable.
   */
  async prepare(dir: PrivateDir, scriptFile: K6ScriptFile, script: string | Uint8Array | LayoutFile['write'], files: readonly LayoutFile[] = []): Promise<void> {
    const testDir = path.join(dir.path, TEST_DIR)
    await mkdir(testDir, { mode: 0o700 })
    const entry = path.join(testDir, scriptFile)
    if (typeof script === 'function') await script(entry)
    else await writeFile(entry, script, { mode: 0o600, flag: 'wx' })
    for (const file of files) {
      // The API checked every name before storing it; checked again where it becomes a host path.
      const checked = checkFilePath(file.path)
      // checkFilePath also refuses the entry script's own names (script.js, script.ts) at the top.
      if (!checked.ok || checked.path !== file.path) {
        throw new Error(`the test file name ${JSON.stringify(file.path)} cannot be laid out: ${checked.ok ? 'it is not in its stored form' : checked.message}`)
      }
      const target = path.join(testDir, ...file.path.split('/'))
      if (!target.startsWith(testDir + path.sep)) throw new Error(`the test file name ${JSON.stringify(file.path)} leads outside the test's folder`)
      // Only this process writes here before k6 starts, so no folder on the way can be a link.
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 })
      await file.write(target)
    }
    await this.seal(dir, K6_OUTPUTS)
  }

  /**
   * Hands the directory's files to its user and creates `files` (empty) if missing. Call after
   * writing the inputs (script, data) and before spawning; prepare() does both for a k6 command.
   */
  async seal(dir: PrivateDir, files: readonly string[] = []): Promise<void> {
    for (const file of files) await writeFile(path.join(dir.path, file), '', { mode: 0o600, flag: 'a' })
    if (dir.owner) await chownTree(dir.path, dir.owner.uid, dir.owner.gid)
  }

  /** How to start k6 with `command` in its sandbox. */
  plan(command: K6Command): SpawnPlan {
    // Only a run reaches the network (its targets, under the target policy). Validation needs
    // none: k6 loads the script and its files from the directory, and nothing is fetched, so a
    // script under validation cannot make the platform's host reach anything.
    return this.planArgs(command.dir, this.invocation(command.dir, command.invocation), command.limits, command.writable ?? [], command.invocation.purpose === 'run')
  }

  private planArgs(dir: PrivateDir, invocation: K6Invocation, limits: K6Limits, writableFiles: readonly string[], network: boolean): SpawnPlan {
    const { args: k6Args, env } = invocation
    if (this.mode === 'off' || !this.tools.bwrap) {
      const file = this.tools.prlimit ?? this.k6
      const args = this.tools.prlimit ? [...prlimitArgs(limits, { threads: false }), '--', this.k6, ...k6Args] : [...k6Args]
      return { file, args, env, cwd: dir.path, sandboxed: false }
    }
    const writable = writableFiles.flatMap((f) => ['--bind', path.join(dir.path, f), path.posix.join(SANDBOX_WORK_DIR, f)])
    const bwrapArgs = [
      '--unshare-user', '--uid', SANDBOX_UID, '--gid', SANDBOX_UID, '--disable-userns',
      '--unshare-pid', '--as-pid-1', '--unshare-ipc', '--unshare-uts', '--hostname', 'k6', '--unshare-cgroup-try',
      ...(network ? [] : ['--unshare-net']),
      '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
      '--ro-bind', this.k6, SANDBOX_K6_PATH,
      ...this.binds.flatMap((f) => ['--ro-bind', f, f]),
      '--ro-bind', dir.path, SANDBOX_WORK_DIR,
      ...writable,
      '--proc', '/proc',
      '--dev', '/dev',
      '--tmpfs', '/tmp',
      // Nothing but the output files is writable: not the root, /tmp or /dev (tmpfs would let a
      // script fill memory with handleSummary files).
      '--remount-ro', '/tmp',
      '--remount-ro', '/dev',
      '--remount-ro', '/',
      '--chdir', SANDBOX_WORK_DIR,
      '--',
      SANDBOX_K6_PATH,
      ...k6Args,
    ]
    return {
      file: this.tools.prlimit,
      args: [...prlimitArgs(limits, { threads: this.ownUsers }), '--', this.tools.bwrap, ...bwrapArgs],
      env,
      cwd: dir.path,
      ...(dir.owner ? { uid: dir.owner.uid, gid: dir.owner.gid } : {}),
      sandboxed: true,
    }
  }

  /** `k6 version` in a sandbox: proves namespaces, mounts, limits and the k6 binary work together. */
  private async probe(): Promise<void> {
    const dir = await this.makeDir('probe-')
    try {
      await this.seal(dir)
      const plan = this.planArgs(dir, { args: ['version'], env: k6Environment({}, dir.k6Path) }, { memoryBytes: 256 * MiB, cpuSeconds: 10, threads: 64, fileBytes: MiB }, [], false)
      const output = await new Promise<string>((resolve, reject) => {
        execFile(plan.file, plan.args, { env: plan.env, cwd: plan.cwd, timeout: PROBE_TIMEOUT_MS, ...(plan.uid === undefined ? {} : { uid: plan.uid, gid: plan.gid }) }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${stderr.trim() || err.message}`))
          else resolve(stdout)
        })
      })
      if (!/k6 v\d/.test(output)) throw new Error(`k6 printed no version: ${output.slice(0, 200)}`)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new SandboxUnavailableError(
        `the k6 sandbox does not work on this machine: ${why}. bubblewrap needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 on some kernels, user.max_user_namespaces > 0; in a container, allow unshare/mount, e.g. seccomp and AppArmor profiles). Or set K6_SANDBOX=off to run k6 unsandboxed (only where every script author is trusted).`,
      )
    } finally {
      await rm(dir.base, { recursive: true, force: true })
    }
  }
}

async function findExecutable(name: string, dirs: readonly string[]): Promise<string | undefined> {
  for (const dir of dirs) {
    const file = path.join(dir, name)
    try {
      await access(file, constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

async function existing(files: readonly string[]): Promise<string[]> {
  const found: string[] = []
  for (const file of files) {
    try {
      if ((await stat(file)).isFile()) found.push(file)
    } catch {
      // absent on this distribution
    }
  }
  return found
}

/**
 * Why a user other than the owner cannot reach `target` (every ancestor directory must let others
 * traverse it, and the target must allow `need` for others), or undefined when it can.
 */
async function unreachable(target: string, need = 0o001): Promise<string | undefined> {
  const parts = path.resolve(target).split(path.sep).filter(Boolean)
  let at: string = path.sep
  for (const part of parts.slice(0, -1)) {
    at = path.join(at, part)
    const mode = (await stat(at)).mode
    if ((mode & 0o001) === 0) return `${at} is mode ${(mode & 0o777).toString(8)} (others may not enter it)`
  }
  const mode = (await stat(target)).mode
  if ((mode & need) !== need) return `${target} is mode ${(mode & 0o777).toString(8)}`
  return undefined
}

/** A world-executable copy of `file` under `dir`, made once per content (size and mtime). */
async function stageCopy(file: string, dir: string): Promise<string> {
  const info = await stat(file)
  await mkdir(dir, { recursive: true, mode: 0o711 })
  await chmod(dir, 0o711)
  const target = path.join(dir, `${path.basename(file)}-${info.size}-${Math.trunc(info.mtimeMs)}`)
  try {
    if ((await stat(target)).size === info.size) return target
  } catch {
    // not staged yet
  }
  const partial = `${target}.${process.pid}.partial`
  await copyFile(file, partial)
  await chmod(partial, 0o755)
  await rename(partial, target)
  return target
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) await chownTree(full, uid, gid)
    else if (!entry.isSymbolicLink()) await chown(full, uid, gid)
  }
}
