// Before `npm run dev` / `npm start`: install npm dependencies when missing or stale, bubblewrap
// (the k6 sandbox) from Debian, the pinned k6 and Temporal CLI, and for `npm start` build the web
// app once.
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBubblewrap } from './system-packages.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
const marker = path.join(root, 'node_modules/.package-lock.json')
if (!existsSync(marker) || statSync(path.join(root, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs) {
  console.log('[stampede] installing npm dependencies')
  run('npm', ['install', '--no-audit', '--no-fund'])
}
if (!ensureBubblewrap((line) => console.log(`[stampede] ${line}`))) process.exit(1)
run('npm', ['run', '--silent', 'tools'])
if (process.argv.includes('--production') && !existsSync(path.join(root, 'apps/web/build/index.js'))) {
  console.log('[stampede] building the web app')
  run('npm', ['run', 'build', '-w', '@stampede/web'])
}
