// `go test ./...` for the extension module, with Go found the way the tool build finds it
// (on PATH), and a clear message when it is missing instead of a shell's "not found".
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const moduleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const exe = process.platform === 'win32' ? 'go.exe' : 'go'
const go = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter(Boolean)
  .map((dir) => path.join(dir, exe))
  .find((file) => existsSync(file))
if (!go) {
  console.error("[k6-output] Go is not on PATH; it is needed to test (and build) Stampede's k6 output extension.")
  process.exit(1)
}
const result = spawnSync(go, ['test', './...'], { cwd: moduleDir, stdio: 'inherit', env: { ...process.env, CGO_ENABLED: '0' } })
process.exit(result.status ?? 1)
