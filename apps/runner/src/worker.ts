// createRunner wires the real dependencies into the activities and starts one Temporal worker
// per served location queue (k6-<location>), plus the orchestration worker (workflows and the
// persistence activities) unless this runner is a location-only runner.
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker'
import { ORCHESTRATION_QUEUE, taskQueueFor } from '@stampede/shared/temporal'
import { platformExposure } from '@stampede/shared/targets'
import { createDb, type Db } from '@stampede/db'
import { createStorage } from '@stampede/storage'
import { resolveTool } from '@stampede/tools'
import { K6Sandbox } from '@stampede/sandbox'
import { createK6Activities, type RunStateStore } from './activities/k6.ts'
import { httpControl } from './k6/control.ts'
import { loadRunSpec } from './activities/run-spec.ts'
import { createPersistenceActivities } from './activities/persistence.ts'
import { createJobActivities } from './activities/jobs.ts'
import type { RunnerConfig } from './env.ts'
import { Gate } from './gate.ts'
import { spawnK6 as realSpawnK6, type SpawnK6 } from './k6/process.ts'

export interface Runner {
  /** Resolves when every worker has stopped. */
  readonly running: Promise<void>
  shutdown(): Promise<void>
}

let bundlePromise: Promise<WorkflowBundleWithSourceMap> | undefined
/** Bundles the workflow code once per process (webpack takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundlePromise ??= bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./workflows/index.ts', import.meta.url)),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  })
  return bundlePromise
}

export function prismaRunStateStore(db: Db, secretsKey: string | undefined, caps: RunnerConfig['scriptLimits']): RunStateStore {
  return {
    loadRun: (runId) => loadRunSpec(db, runId, secretsKey, caps),
    async markRunning(runId, startedAt) {
      await db.run.updateMany({ where: { id: runId, status: 'queued' }, data: { status: 'running', startedAt } })
    },
  }
}

let runtimeInstalled = false
/** The SDK's own logging at WARN: worker state changes are noise in a runner's log. */
function installRuntime(): void {
  if (runtimeInstalled) return
  runtimeInstalled = true
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') })
  } catch {
    // Already installed by the embedding process (tests, the dev stack): keep theirs.
  }
}

export async function createRunner(config: RunnerConfig, overrides: { spawnK6?: SpawnK6; log?: (line: string) => void } = {}): Promise<Runner> {
  const log = overrides.log ?? ((line: string) => console.log(`[runner] ${line}`))
  installRuntime()
  const k6BinPath = config.k6BinPath ?? (await resolveTool('k6', { log })).path
  await mkdir(config.workDir, { recursive: true, mode: 0o711 })
  // Every k6 runs in the sandbox; a runner that cannot build one does not take runs (unless the
  // operator turned it off: K6_SANDBOX=off, logged loudly).
  const sandbox = await K6Sandbox.create({ mode: config.sandbox.mode, k6BinPath, root: config.workDir, log })
  log(sandbox.status().detail)
  // In single-machine mode k6 may reach loopback: say so when the platform's own services are there.
  const exposed = platformExposure({
    allowLoopback: config.allowLoopbackTargets,
    endpoints: [
      { name: 'Temporal', address: config.temporal.address },
      { name: 'Postgres', address: config.databaseUrl },
      ...(config.s3.endpoint ? [{ name: 'S3', address: config.s3.endpoint }] : []),
    ],
  })
  for (const line of exposed) log(`WARNING: ${line}`)
  const db = createDb(config.databaseUrl)
  const storage = createStorage(config.s3)
  const connection = await NativeConnection.connect({ address: config.temporal.address })

  const gate = new Gate(config.maxConcurrency)
  const k6 = createK6Activities({
    spawnK6: overrides.spawnK6 ?? realSpawnK6,
    sandbox,
    limits: config.sandbox.run,
    maxLogBytes: config.sandbox.maxLogBytes,
    control: httpControl,
    storage,
    runs: prismaRunStateStore(db, config.secretsKey, config.scriptLimits),
    allowLoopbackTargets: config.allowLoopbackTargets,
    stopGraceMs: config.stopGraceMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    log,
  })
  const gatedK6 = {
    async executeK6(...args: Parameters<typeof k6.executeK6>) {
      const { Context } = await import('@temporalio/activity')
      const ctx = Context.current()
      // Waiting for a slot must not look like a dead runner (heartbeat timeout), and a run
      // cancelled while it waits must hear of it: keep heartbeating until the slot is ours.
      const waiting = setInterval(() => ctx.heartbeat(), 1000)
      let release: () => void
      try {
        release = await gate.acquire(ctx.cancellationSignal)
      } finally {
        clearInterval(waiting)
      }
      try {
        return await k6.executeK6(...args)
      } finally {
        release()
      }
    },
  }

  const workers: Worker[] = []
  for (const location of config.servedLocations) {
    workers.push(
      await Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: taskQueueFor(location),
        activities: gatedK6,
        maxConcurrentActivityTaskExecutions: config.maxConcurrency,
        // Console chunks ride on heartbeats: keep them sub-second so none are coalesced away.
        maxHeartbeatThrottleInterval: config.heartbeatIntervalMs,
        defaultHeartbeatThrottleInterval: config.heartbeatIntervalMs,
        shutdownGraceTime: '30 seconds',
      }),
    )
  }
  if (config.orchestration) {
    workers.push(
      await Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: ORCHESTRATION_QUEUE,
        workflowBundle: await workflowBundle(),
        activities: {
          ...createPersistenceActivities({ db, storage }),
          ...createJobActivities({ db, secretsKey: config.secretsKey, webUrl: config.webPublicUrl ?? 'http://127.0.0.1:3000', runTimeoutSeconds: config.defaultRunTimeoutSeconds, allowLoopbackTargets: config.allowLoopbackTargets }),
        },
      }),
    )
  }
  log(`polling ${[...config.servedLocations.map(taskQueueFor), ...(config.orchestration ? [ORCHESTRATION_QUEUE] : [])].join(', ')} (max ${config.maxConcurrency} concurrent k6)`)

  const running = Promise.all(workers.map((w) => w.run())).then(async () => {
    await connection.close()
    await db.$disconnect()
    storage.destroy()
  })
  return {
    running,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown()
      await running
    },
  }
}
