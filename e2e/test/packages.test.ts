// The SDK and the CLI as a team outside this repository gets them: `npm run pack` builds both
// tarballs, a fresh project in the temp folder installs them from the tarballs (their npm
// dependencies from the registry, nothing from this workspace), TypeScript checks a program against
// the SDK's bundled types (and refuses one with wrong fields), the installed SDK's JavaScript runs,
// and the installed `stampede` runs scripts on the real platform with a `run` token: exit 0 for a
// pass, 99 for crossed thresholds, JUnit XML a JUnit parser reads with the right failures.
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { XMLParser } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../src/stack.ts'
import { startTarget, type Target } from '../src/target.ts'

const exec = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const tsc = path.join(root, 'node_modules/typescript/bin/tsc')

let dir: string
let project: string
let tarballs: string[]
let stack: Stack
let target: Target
let runToken: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-packages-'))
  project = path.join(dir, 'project')
  // Pack exactly as the README says, then install into a project that knows nothing of the workspace.
  const packed = await exec('npm', ['run', 'pack', '--', '--out', path.join(dir, 'tarballs')], { cwd: root, maxBuffer: 10 << 20 })
  tarballs = packed.stdout.split('\n').filter((l) => l.endsWith('.tgz'))
  await exec('mkdir', ['-p', project])
  await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'team-service', private: true, type: 'module' }))
  await exec('npm', ['install', '--no-audit', '--no-fund', ...tarballs, '@types/node@20'], { cwd: project, maxBuffer: 10 << 20 })
  target = await startTarget()
  stack = await startStack()
  runToken = (await stack.api.tokens.create.mutate({ name: 'ci pipeline', scope: 'run' })).token
}, 600_000)
afterAll(async () => {
  await stack?.stop()
  await target?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('npm run pack', () => {
  it('builds one tarball for the SDK and one for the CLI, with JavaScript and declarations, no TypeScript source', async () => {
    expect(tarballs.map((t) => path.basename(t))).toEqual([expect.stringMatching(/^stampede-sdk-\d+\.\d+\.\d+\.tgz$/), expect.stringMatching(/^stampede-cli-\d+\.\d+\.\d+\.tgz$/)])
    const sdk = path.join(project, 'node_modules/@stampede/sdk')
    const files = await readdir(path.join(sdk, 'dist'))
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'console.js', 'console.d.ts', 'frames.js', 'frames.d.ts']))
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
    const manifest = JSON.parse(await readFile(path.join(sdk, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    // Only npm packages: nothing of this workspace is needed to install or type-check.
    expect(Object.keys(manifest.dependencies).filter((d) => d.startsWith('@stampede/'))).toEqual([])
    for (const f of files.filter((f) => f.endsWith('.d.ts') || f.endsWith('.js'))) {
      expect(await readFile(path.join(sdk, 'dist', f), 'utf8'), f).not.toMatch(/(from|import\()\s*['"](@stampede\/|@prisma|fastify)/)
    }
    const cli = JSON.parse(await readFile(path.join(project, 'node_modules/@stampede/cli/package.json'), 'utf8')) as { version: string; bin: Record<string, string> }
    expect(cli.bin).toEqual({ stampede: './dist/stampede.js' })
    expect((await stat(path.join(project, 'node_modules/.bin/stampede'))).isFile()).toBe(true)
  })

  it('refuses `npm pack` of a source folder, saying how to pack', async () => {
    const err = (await exec('npm', ['pack', '-w', '@stampede/sdk', '--pack-destination', dir], { cwd: root }).catch((e: unknown) => e)) as { code?: number; stderr?: string }
    expect(err.code).not.toBe(0)
    expect(err.stderr).toContain('npm run pack')
  })
})

describe('the installed SDK', () => {
  const compile = async (name: string, program: string) => {
    await writeFile(path.join(project, name), program)
    const config = { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] }, files: [name] }
    await writeFile(path.join(project, 'tsconfig.json'), JSON.stringify(config))
    return exec(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: project }).then(
      () => ({ code: 0, output: '' }),
      (e: { code: number; stdout: string }) => ({ code: e.code, output: e.stdout }),
    )
  }

  it('type-checks a program that uses procedures, helpers and frames (declarations checked too, no skipLibCheck)', async () => {
    const result = await compile('good.ts', `
      import { createStampedeClient, StampedeApiError, type Run, type RouterOutputs } from '@stampede/sdk'
      import { followConsoleWith } from '@stampede/sdk/console'
      import { mergeFrames, quantile, seriesKey } from '@stampede/sdk/frames'
      const client = createStampedeClient({ url: 'http://127.0.0.1:4000', token: process.env.STAMPEDE_TOKEN })
      export async function main(): Promise<void> {
        const run: Run = await client.runs.start.mutate({ script: 'export default function () {}', location: 'us-east', env: { A: 'b' } })
        const ms: number | null = run.durationMs
        const page: RouterOutputs['runs']['list'] = await client.runs.list.query({ limit: 5, status: 'failed' })
        for (const r of page.items) console.log(r.id, r.status satisfies 'passed' | 'failed' | string, ms)
        for await (const e of client.followMetrics(run.id)) {
          if (e.type !== 'metrics') continue
          const merged = mergeFrames(e.frames)
          const s = merged.series.get(seriesKey({ metric: 'http_req_duration' }))
          if (s) console.log(quantile(s, merged.gamma, 0.95))
        }
        console.log(typeof followConsoleWith, StampedeApiError.name)
      }`)
    expect(result.output).toBe('')
    expect(result.code).toBe(0)
  }, 120_000)

  it('refuses to compile a wrong input field, a wrong enum value and a field the output does not have', async () => {
    const result = await compile('bad.ts', `
      import { createStampedeClient } from '@stampede/sdk'
      const client = createStampedeClient({ url: 'http://127.0.0.1:4000' })
      export const a = client.runs.start.mutate({ script: 'x', location: 'us-east', locaton: 'typo' })
      export const b = client.runs.list.query({ status: 'finished' })
      export const c = client.runs.byId.query({ id: 'x' }).then((r) => r.durationSeconds)`)
    expect(result.code).not.toBe(0)
    const errors = result.output.split('\n').filter((l) => l.includes('error TS'))
    expect(errors).toHaveLength(3)
    expect(errors[0]).toMatch(/bad\.ts\(4,\d+\).*'locaton' does not exist/)
    expect(errors[1]).toMatch(/bad\.ts\(5,\d+\).*'"finished"' is not assignable/)
    expect(errors[2]).toMatch(/bad\.ts\(6,\d+\).*'durationSeconds' does not exist/)
  }, 120_000)

  it('runs: lists locations and runs a script on the real platform; refuses an API of another compatibility level', async () => {
    await writeFile(path.join(project, 'use.mjs'), `
      import { createStampedeClient, StampedeVersionError } from '@stampede/sdk'
      const client = createStampedeClient({ url: process.env.STAMPEDE_URL, token: process.env.STAMPEDE_TOKEN })
      const locations = await client.locations.list.query()
      const run = await client.runScript({ script: process.env.SCRIPT, location: 'us-east' })
      // The same SDK talking to an API that says it speaks another compatibility level.
      const fetch = async (url) => new Response(JSON.stringify({ result: { data: { version: '9.0.0', apiCompat: 999 } } }), { headers: { 'content-type': 'application/json' } })
      const other = createStampedeClient({ url: 'http://api.invalid', fetch })
      const refused = await other.locations.list.query().catch((e) => e)
      console.log(JSON.stringify({ locations: locations.map((l) => l.id), status: run.status, reqs: run.metrics.httpReqs, refused: refused instanceof StampedeVersionError, message: refused.message }))`)
    const script = `import http from 'k6/http'\nexport const options = { vus: 1, iterations: 3 }\nexport default function () { http.get('${target.url}/') }`
    const { stdout } = await exec(process.execPath, ['use.mjs'], { cwd: project, env: { ...process.env, STAMPEDE_URL: stack.apiUrl, STAMPEDE_TOKEN: runToken, SCRIPT: script } })
    const out = JSON.parse(stdout) as { locations: string[]; status: string; reqs: number; refused: boolean; message: string }
    expect(out.locations).toContain('us-east')
    expect(out).toMatchObject({ status: 'passed', reqs: 3, refused: true })
    expect(out.message).toMatch(/9\.0\.0/)
    expect(out.message).toMatch(/upgrade/i)
  }, 180_000)
})

describe('the installed CLI', () => {
  const stampede = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      // npx finds the project's own bin, as a CI step runs it.
      const child = spawn('npx', ['--no-install', 'stampede', ...args], { cwd: project, env: { ...process.env, STAMPEDE_URL: stack.apiUrl, STAMPEDE_TOKEN: runToken, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }))
    })
  const junit = async (file: string) => {
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' || name === 'testsuite' }).parse(await readFile(path.join(project, file), 'utf8')) as {
      testsuites: { testsuite: Array<{ tests: string; failures: string; testcase: Array<{ name: string; classname: string; failure?: { message: string } }> }> }
    }
    return parsed.testsuites.testsuite[0]!
  }

  it('prints its version', async () => {
    const { code, stdout } = await stampede(['--version'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^stampede \d+\.\d+\.\d+ \(API compatibility level \d+\)/)
  })

  it('exits 0 for a passing script, with JUnit XML of passing cases', async () => {
    await writeFile(path.join(project, 'pass.js'), `import http from 'k6/http'
import { check } from 'k6'
export const options = { vus: 1, iterations: 4, thresholds: { http_req_failed: ['rate<0.01'] } }
export default function () { check(http.get('${target.url}/'), { 'status is 200': (r) => r.status === 200 }) }`)
    const { code, stdout, stderr } = await stampede(['run', 'pass.js', '--location', 'us-east', '--junit', 'pass.xml'])
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/PASSED/)
    const suite = await junit('pass.xml')
    expect(suite.failures).toBe('0')
    expect(suite.testcase.map((c) => `${c.classname}/${c.name}`)).toEqual(expect.arrayContaining(['thresholds/http_req_failed: rate<0.01', 'checks/status is 200']))
    expect(suite.testcase.find((c) => c.classname === 'run')).toBeDefined()
  }, 180_000)

  it('exits 99 when thresholds are crossed, and the JUnit XML names the crossed threshold and the failing check', async () => {
    await writeFile(path.join(project, 'fail.js'), `import http from 'k6/http'
import { check } from 'k6'
export const options = { vus: 1, iterations: 4, thresholds: { http_req_duration: ['p(95)<0.001'], checks: ['rate>0.99'] } }
export default function () { check(http.get('${target.url}/'), { 'status is 201': (r) => r.status === 201 }) }`)
    const { code, stderr } = await stampede(['run', 'fail.js', '--location', 'us-east', '--junit', 'fail.xml'])
    expect(code, stderr).toBe(99)
    const suite = await junit('fail.xml')
    const failed = suite.testcase.filter((c) => c.failure).map((c) => `${c.classname}/${c.name}`)
    expect(failed).toEqual(expect.arrayContaining(['thresholds/http_req_duration: p(95)<0.001', 'thresholds/checks: rate>0.99', 'checks/status is 201']))
    expect(failed.filter((f) => f.startsWith('run/'))).toEqual([])
    expect(Number(suite.failures)).toBe(failed.length)
  }, 180_000)
})
