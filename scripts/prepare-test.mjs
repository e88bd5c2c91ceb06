// Everything `npm test` needs before the test runner starts, on a fresh machine or a warm one:
// npm dependencies (installed when missing or older than the lockfile), a reachable Postgres
// for the tests' throwaway databases (started when it is installed but down), bubblewrap (the
// k6 sandbox) and Chromium (browser tests) from Debian, and the pinned k6 and Temporal CLI
// (found or built into .tools/bin by `npm run tools`).
// Written without dependencies: it must run before `npm install` has.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBubblewrap, ensureDebianPackage } from './system-packages.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const say = (line) => console.log(`[prepare] ${line}`)

function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
  if (result.status !== 0) {
    console.error(`[prepare] \`${cmd} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal})`)
    process.exit(1)
  }
}

function dependenciesStale() {
  const marker = path.join(root, 'node_modules/.package-lock.json')
  if (!existsSync(marker)) return true
  return statSync(path.join(root, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs
}

function reachable(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

async function ensurePostgres() {
  const url = new URL(process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/test')
  const host = url.hostname
  const port = Number(url.port || 5432)
  if (await reachable(host, port)) return say(`Postgres reachable at ${host}:${port}`)
  const clusters = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : []
  if (clusters.length === 0 || !['127.0.0.1', 'localhost'].includes(host)) {
    console.error(`[prepare] Postgres is not reachable at ${host}:${port}. Start it, or point TEST_DATABASE_ADMIN_URL at a server where the tests may create databases.`)
    process.exit(1)
  }
  say(`starting the local Postgres cluster (${clusters[0]}/main)`)
  run('pg_ctlcluster', ['--skip-systemctl-redirect', clusters[0], 'main', 'start'])
  for (let i = 0; i < 50 && !(await reachable(host, port)); i++) await new Promise((r) => setTimeout(r, 200))
}

/** Browser tests drive Debian's Chromium (Playwright's own download is not used). */
function ensureChromium() {
  const bin = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
  if (!ensureDebianPackage({ bin, pkg: 'chromium', why: 'browser tests', say, alternative: 'set CHROMIUM_PATH' })) process.exit(1)
}

if (dependenciesStale()) {
  say('installing npm dependencies')
  run('npm', ['install', '--no-audit', '--no-fund'])
}
await ensurePostgres()
if (!ensureBubblewrap(say)) process.exit(1)
ensureChromium()
run('npm', ['run', '--silent', 'tools'])
