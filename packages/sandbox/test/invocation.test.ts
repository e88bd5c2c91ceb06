// The one definition of how k6 is invoked: validation (`k6 inspect`) and runs (`k6 run`) differ
// only in the purpose's own flags (and inspect's default VUs), never in the environment or paths.
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { COMMON_K6_FLAGS, k6Invocation, K6Sandbox, SANDBOX_WORK_DIR, type K6InvocationRequest } from '../src/index.ts'

const VARS = { BASE_URL: 'http://x', TOKEN: 'value', HOME: '/evil', PATH: '/evil', K6_OUT: 'json=/tmp/x', tmpdir: '/evil' }
const LIMITS = { memoryBytes: 256 << 20, threads: 64, fileBytes: 1 << 20 }
const roots: string[] = []

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true })
})

describe('k6Invocation', () => {
  it('gives validation and runs the same environment for the same variables', () => {
    const inspect = k6Invocation({ purpose: 'inspect', scriptFile: 'script.ts', vars: VARS, flags: ['--log-format=json', '--execution-requirements'] })
    const run = k6Invocation({ purpose: 'run', scriptFile: 'script.ts', vars: VARS, flags: ['--summary-export=summary.json'] })
    expect(inspect.env).toEqual(run.env)
    expect(run.env).toEqual({
      BASE_URL: 'http://x',
      TOKEN: 'value',
      PATH: '/usr/bin:/bin',
      HOME: SANDBOX_WORK_DIR,
      TMPDIR: SANDBOX_WORK_DIR,
      K6_NO_USAGE_REPORT: 'true',
      K6_AUTO_EXTENSION_RESOLUTION: 'false',
      K6_WEB_DASHBOARD_EXPORT: 'report.html',
      K6_WEB_DASHBOARD_PORT: '-1',
      K6_WEB_DASHBOARD_PERIOD: '1s',
      K6_STAMPEDE_MAX_SERIES: '1000',
    })
    expect(inspect.args).toEqual(['inspect', ...COMMON_K6_FLAGS, '--log-format=json', '--execution-requirements', 'test/script.ts'])
    expect(run.args).toEqual(['run', ...COMMON_K6_FLAGS, '--summary-export=summary.json', 'test/script.ts'])
    // Every k6 sees the system environment as __ENV (k6 run's default, not k6 inspect's).
    expect(COMMON_K6_FLAGS).toContain('--include-system-env-vars')
  })

  it('keeps the purpose-specific settings parameters: the series cap for both, default VUs for inspect only', () => {
    const request = (purpose: 'inspect' | 'run'): K6InvocationRequest => ({ purpose, scriptFile: 'script.js', vars: {}, maxSeries: 250 })
    expect(k6Invocation(request('run')).env.K6_STAMPEDE_MAX_SERIES).toBe('250')
    expect(k6Invocation(request('inspect')).env).toEqual(k6Invocation(request('run')).env)
    expect(k6Invocation({ purpose: 'inspect', scriptFile: 'script.js', vars: {}, defaultVus: 1 }).env.K6_VUS).toBe('1')
    expect(k6Invocation({ purpose: 'run', scriptFile: 'script.js', vars: { K6_VUS: '9' } }).env.K6_VUS).toBeUndefined()
  })

  it('puts HOME and TMPDIR where k6 runs: /work in the sandbox, the host directory without it', () => {
    expect(k6Invocation({ purpose: 'run', scriptFile: 'script.js', vars: {} }, '/srv/runs/x/k6').env).toMatchObject({ HOME: '/srv/runs/x/k6', TMPDIR: '/srv/runs/x/k6' })
  })
})

describe('K6Sandbox.plan', () => {
  it('starts validation and runs with the same binary, working directory and environment', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'stampede-invocation-test-'))
    roots.push(root)
    const sandbox = await K6Sandbox.create({ mode: 'off', k6BinPath: '/opt/k6/bin/k6', root, log: () => {} })
    const dir = await sandbox.makeDir('t-')
    const inspect = sandbox.plan({ dir, invocation: { purpose: 'inspect', scriptFile: 'script.js', vars: VARS }, limits: { ...LIMITS, cpuSeconds: 5 } })
    const run = sandbox.plan({ dir, invocation: { purpose: 'run', scriptFile: 'script.js', vars: VARS }, limits: LIMITS, writable: ['summary.json'] })
    expect(inspect.env).toEqual(run.env)
    expect(inspect.env.HOME).toBe(dir.k6Path)
    expect(inspect.cwd).toBe(run.cwd)
    expect(inspect.file).toBe(run.file)
    // The same binary, followed by the invocation's arguments (prlimit and its options, which
    // carry the purpose's limits, come first where prlimit is installed).
    const BIN = '/opt/k6/bin/k6'
    const afterK6 = (plan: typeof run) => (plan.file === BIN ? plan.args : plan.args.slice(plan.args.indexOf(BIN) + 1))
    for (const plan of [inspect, run]) expect(plan.file === BIN || plan.args.includes(BIN)).toBe(true)
    expect(afterK6(inspect)).toEqual(sandbox.invocation(dir, { purpose: 'inspect', scriptFile: 'script.js', vars: VARS }).args)
    expect(afterK6(run)).toEqual(sandbox.invocation(dir, { purpose: 'run', scriptFile: 'script.js', vars: VARS }).args)
  })
})
