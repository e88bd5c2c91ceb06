// Type-checks files with the repository's TypeScript under the SDK's own compiler options, for
// the type-level tests (types.test.ts, router-types.test.ts): writes a tsconfig into `dir` that
// extends packages/sdk's and names only `files`, and returns tsc's exit code and output.
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const root = path.resolve(pkg, '../..')
const tsc = path.join(root, 'node_modules/typescript/bin/tsc')

export async function typeCheck(dir: string, files: string[], paths: Record<string, string[]> = {}): Promise<{ code: number; output: string }> {
  const config = { extends: path.join(pkg, 'tsconfig.json'), compilerOptions: { typeRoots: [path.join(root, 'node_modules/@types')], paths }, include: [], files }
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(config))
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', dir], { cwd: pkg }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr })
    })
  })
}
