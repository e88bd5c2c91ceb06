// System packages the platform needs, installed by the project's own scripts (never by hand):
// bubblewrap for the k6 sandbox, Debian's Chromium for browser tests. Written without
// dependencies: it runs before `npm install` has.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/**
 * Makes sure `bin` exists, installing Debian package `pkg` with apt when this process is root.
 * Returns false (after saying why and how to fix it) when it cannot.
 */
export function ensureDebianPackage({ bin, pkg, why, say, alternative }) {
  if (existsSync(bin)) {
    say(`${pkg}: ${bin}`)
    return true
  }
  const hasApt = existsSync('/usr/bin/apt-get')
  if (process.getuid?.() !== 0 || !hasApt) {
    console.error(`[prepare] ${bin} is missing (${why}); install it${hasApt ? ` with \`apt-get install -y ${pkg}\`` : ` (package ${pkg})`}${alternative ? `, or ${alternative}` : ''}`)
    return false
  }
  say(`installing ${pkg} from Debian (${why})`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const args = ['install', '-y', '--no-install-recommends', pkg]
  // Package lists may be missing or stale on a fresh machine: refresh once and retry.
  if (spawnSync('apt-get', args, { stdio: 'inherit', env }).status !== 0) {
    if (spawnSync('apt-get', ['update'], { stdio: 'inherit', env }).status !== 0 || spawnSync('apt-get', args, { stdio: 'inherit', env }).status !== 0) {
      console.error(`[prepare] \`apt-get install -y ${pkg}\` failed`)
      return false
    }
  }
  return existsSync(bin)
}

/** bubblewrap, which every k6 process runs in; K6_SANDBOX=off is the operator's explicit opt-out. */
export function ensureBubblewrap(say) {
  if (process.env.K6_SANDBOX === 'off') {
    say('K6_SANDBOX=off: not checking for bubblewrap (k6 runs unsandboxed)')
    return true
  }
  if (process.platform !== 'linux') {
    console.error('[prepare] the k6 sandbox needs Linux (bubblewrap); on this system set K6_SANDBOX=off to run k6 unsandboxed (only where every script author is trusted)')
    return false
  }
  return ensureDebianPackage({
    bin: '/usr/bin/bwrap',
    pkg: 'bubblewrap',
    why: 'the k6 sandbox',
    say,
    alternative: 'set K6_SANDBOX=off to run k6 unsandboxed (only where every script author is trusted)',
  })
}
