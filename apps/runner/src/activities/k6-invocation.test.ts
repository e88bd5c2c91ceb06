// Validation (`k6 inspect`, @stampede/runs) and runs (this runner's executeK6) start k6 through
// one definition (@stampede/sandbox's k6Invocation). Proved here through both real callers: each
// starts a stand-in k6 (a shell script) through the same sandbox, and the stand-in records what a
// script could observe: its environment, working directory, the files beside it and its own name.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { MockActivityEnvironment } from '@temporalio/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMON_K6_FLAGS, K6_OUTPUTS, K6Sandbox, TEST_DIR } from '@stampede/sandbox'
import { inspectScript, SECRET_STAND_IN, validationEnv } from '@stampede/runs'
import type { K6Outcome, K6Task } from '@stampede/shared/temporal'
import { spawnK6 } from '../k6/process.ts'
import { createK6Activities } from './k6.ts'

/** Writes, into $DUMP_DIR/<subcommand>.txt, k6's arguments, working directory, environment and directory listing. */
const FAKE_K6 = `#!/bin/sh
{
  for a in "$@"; do echo "ARG $a"; done
  echo "CWD $(pwd)"
  env | LC_ALL=C sort | sed 's/^/ENV /'
  ls -A | LC_ALL=C sort | sed 's/^/FILE /'
} > "$DUMP_DIR/$1.txt"
if [ "$1" = inspect ]; then echo '{"maxVUs":1,"totalDuration":"1s"}'; fi
exit 0
`

let root: string
let dumps: string
let sandbox: K6Sandbox

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'k6-invocation-'))
  dumps = path.join(root, 'dumps')
  await writeFile(path.join(root, 'k6'), FAKE_K6)
  await chmod(path.join(root, 'k6'), 0o755)
  await mkdir(dumps)
  // Off: the stand-in is a shell script, which the bubblewrap sandbox (k6 alone) could not run.
  // The directory, environment and arguments come from the same code in both modes; that they
  // are the same inside bubblewrap is packages/sandbox's test (real k6).
  sandbox = await K6Sandbox.create({ mode: 'off', k6BinPath: path.join(root, 'k6'), root: path.join(root, 'work'), log: () => {} })
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

interface Seen {
  args: string[]
  cwd: string
  env: Record<string, string>
  files: string[]
}

/** What the stand-in recorded for `subcommand`, with its private directory (a host path with the sandbox off) named <dir>. */
async function seen(subcommand: 'inspect' | 'run'): Promise<Seen> {
  const lines = (await readFile(path.join(dumps, `${subcommand}.txt`), 'utf8')).trimEnd().split('\n')
  const cwd = lines.find((l) => l.startsWith('CWD '))!.slice(4)
  const value = (l: string, prefix: string) => l.slice(prefix.length).replaceAll(cwd, '<dir>')
  return {
    args: lines.filter((l) => l.startsWith('ARG ')).map((l) => value(l, 'ARG ')),
    cwd: '<dir>',
    env: Object.fromEntries(lines.filter((l) => l.startsWith('ENV ')).map((l) => value(l, 'ENV ')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
    files: lines.filter((l) => l.startsWith('FILE ')).map((l) => value(l, 'FILE ')),
  }
}

const VALIDATION_LIMITS = { memoryBytes: 256 << 20, cpuSeconds: 10, threads: 64, fileBytes: 1 << 20 }

/** The runner's k6 activities on the stand-in, configured as the runner's defaults configure them. */
const runnerActivities = (secrets: Record<string, string>) =>
  createK6Activities({
    spawnK6,
    sandbox,
    limits: { memoryBytes: 1 << 30, threads: 256, fileBytes: 1 << 20 },
    maxLogBytes: 1 << 20,
    reportStarted: () => {},
    redeemSecrets: async () => secrets,
    allowLoopbackTargets: false,
    stopGraceMs: 1000,
    heartbeatIntervalMs: 20,
    runnerQueue: 'stampede-runner-test',
    workDir: path.join(root, 'work'),
    // METRICS_MAX_SERIES's default: a runner always sets it.
    metricsMaxSeries: 1000,
  })

/** Runs `script` as the runner does, with the run's variables and (through a grant) its secrets. */
async function runOnRunner(runId: string, script: string, env: Record<string, string>, secrets: Record<string, string> = {}): Promise<K6Outcome> {
  const task: K6Task = {
    runId,
    locationId: 'us-east',
    trigger: 'api',
    timeoutSeconds: 60,
    script,
    env,
    allowlist: [],
    caps: { maxVUs: 5, maxDurationSeconds: 3600, owner: 'project' },
    ...(Object.keys(secrets).length > 0 ? { secrets: { url: 'http://api.invalid/runner/v1/secrets', token: 'sg_t', expiresAt: new Date(Date.now() + 60_000).toISOString(), names: Object.keys(secrets) } } : {}),
  }
  return (await new MockActivityEnvironment().run(runnerActivities(secrets).executeK6, task)) as K6Outcome
}

describe('how validation and runs start k6', () => {
  it('gives k6 the same environment, HOME, TMPDIR, working directory, files and script name for the same variables', async () => {
    const plain = { BASE_URL: 'http://x', DUMP_DIR: dumps, HOME: '/evil', K6_OUT: 'json=/tmp/x' }
    const secrets = { TOKEN: 'hunter2' }
    const script = 'export const options = { vus: 1 }\nexport default function () {}'

    // Validation: the API's and the orchestration worker's engine check, secrets as stand-ins.
    const inspected = await inspectScript(script, { sandbox, limits: VALIDATION_LIMITS, language: 'javascript', timeoutMs: 30_000, env: validationEnv(plain, Object.keys(secrets)) })
    expect(inspected).toEqual({ ok: true, requirements: { maxVUs: 1, totalDurationSeconds: 1 } })
    // The run: the runner's k6 activity, with the run's variables and its redeemed secrets.
    expect(await runOnRunner('r1', script, plain, secrets)).toMatchObject({ exitCode: 0, reason: 'exited' })

    const validation = await seen('inspect')
    const run = await seen('run')
    // The environment is the same but for the secrets' values (stand-ins in validation)…
    expect(run.env.TOKEN).toBe('hunter2')
    expect(validation.env.TOKEN).toBe(SECRET_STAND_IN)
    expect({ ...validation.env, TOKEN: 'hunter2' }).toEqual(run.env)
    // …with the platform's HOME and k6 settings, not the variables', and k6's home its private directory.
    expect(run.env).toMatchObject({ BASE_URL: 'http://x', HOME: '<dir>', TMPDIR: '<dir>', PATH: '/usr/bin:/bin', K6_STAMPEDE_MAX_SERIES: '1000' })
    expect(run.env.K6_OUT).toBeUndefined()
    // The same working directory, holding the same files: the script under the same name and
    // every file k6 may write (empty; a run writes some of them).
    expect(validation.cwd).toBe(run.cwd)
    expect(validation.files).toEqual(run.files)
    // (The script is in the test's folder, beside k6's output files.)
    expect(run.files).toEqual([TEST_DIR, ...K6_OUTPUTS].sort())
    // The same command shape: the common flags first, the script last; only the purpose's flags differ.
    expect(validation.args.slice(0, 1 + COMMON_K6_FLAGS.length)).toEqual(['inspect', ...COMMON_K6_FLAGS])
    expect(run.args.slice(0, 1 + COMMON_K6_FLAGS.length)).toEqual(['run', ...COMMON_K6_FLAGS])
    expect(validation.args.at(-1)).toBe('test/script.js')
    expect(run.args.at(-1)).toBe('test/script.js')
  })

  it('names a TypeScript script script.ts in both', async () => {
    const script = 'const n: number = 1\nexport const options = { vus: n }\nexport default function () {}'
    await inspectScript(script, { sandbox, limits: VALIDATION_LIMITS, language: 'typescript', timeoutMs: 30_000, env: { DUMP_DIR: dumps } })
    await runOnRunner('r2', script, { DUMP_DIR: dumps })
    const validation = await seen('inspect')
    const run = await seen('run')
    expect(validation.args.at(-1)).toBe('test/script.ts')
    expect(run.args.at(-1)).toBe('test/script.ts')
    expect(validation.files).toEqual(run.files)
    expect(validation.env).toEqual(run.env)
  })
})
