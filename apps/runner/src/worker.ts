// createRunner wires the real dependencies into the activities and starts one Temporal worker
// per served location queue (k6-<location>, sharing the runner's k6 slots), one for the runner's
// own queue (following, storing and removing the runs it holds), plus the orchestration worker
// (workflows and the persistence activities) unless this runner is a location-only runner. At
// start it hands the run directories a previous life of this runner left to storeSpooledRun.
// A location-only runner (RUNNER_ORCHESTRATION=false) opens no database and holds no storage or
// secrets keys: it talks to Temporal alone (and to the API once per run with secrets, to redeem
// that run's grant).
import { mkdir } from 'node:fs/promises'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client'
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker'
import {
  K6_STARTED_SIGNAL,
  ORCHESTRATION_QUEUE,
  presenceWorkflowIdFor,
  RUNNER_PRESENCE_WORKFLOW,
  runnerQueueFor,
  spoolWorkflowIdFor,
  STORE_SPOOLED_RUN_WORKFLOW,
  taskQueueFor,
  workflowIdFor,
  type K6StartedSignal,
  type RunnerPresenceInput,
  type StoreSpooledRunInput,
} from '@stampede/shared/temporal'
import { platformExposure } from '@stampede/shared/targets'
import { temporalConnectOptions } from '@stampede/shared/temporal-connection'
import { createDb } from '@stampede/db'
import { k6Validator } from '@stampede/runs'
import { createStorage } from '@stampede/storage'
import { fileBlobKey } from '@stampede/shared/files'
import { resolveTool } from '@stampede/tools'
import { K6Sandbox } from '@stampede/sandbox'
import { createK6Activities } from './activities/k6.ts'
import { httpControl } from './k6/control.ts'
import { createDispatchActivities } from './activities/dispatch.ts'
import { createPersistenceActivities } from './activities/persistence.ts'
import { createJobActivities } from './activities/jobs.ts'
import { createPresenceActivities } from './activities/presence.ts'
import type { RunnerConfig } from './env.ts'
import { K6Slots } from './slots.ts'
import { runnerIdentity } from './identity.ts'
import { listSpools } from './k6/spool.ts'
import { spawnK6 as realSpawnK6, type SpawnK6 } from './k6/process.ts'

export interface Runner {
  /** This runner's id (kept in its work directory) and its own queue. */
  readonly id: string
  readonly queue: string
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
      ...(config.databaseUrl ? [{ name: 'Postgres', address: config.databaseUrl }] : []),
      ...(config.s3.endpoint ? [{ name: 'S3', address: config.s3.endpoint }] : []),
    ],
  })
  for (const line of exposed) log(`WARNING: ${line}`)
  for (const name of config.unusedCredentials) log(`WARNING: ${name} is set, but a location runner (RUNNER_ORCHESTRATION=false) does not use it; remove it so this host holds no platform credentials`)
  const connectOptions = temporalConnectOptions(config.temporal)
  const connection = await NativeConnection.connect(connectOptions)
  // The runner's client: start-up (presence, spools) and the k6Started signals.
  const client = new Client({ connection: await Connection.connect(connectOptions), namespace: config.temporal.namespace })

  const runnerId = await runnerIdentity(config.workDir, config.runnerId)
  const runnerQueue = runnerQueueFor(runnerId)
  const identity = `stampede-runner ${runnerId} ${process.pid}@${os.hostname()}`
  const slots = new K6Slots(config.maxConcurrency)
  const startedAt = new Date().toISOString()
  const k6 = createK6Activities({
    spawnK6: overrides.spawnK6 ?? realSpawnK6,
    sandbox,
    limits: config.sandbox.run,
    maxLogBytes: config.sandbox.maxLogBytes,
    control: httpControl,
    reportStarted: (runId, startedAt) => void signalStarted(client, runId, { startedAt: startedAt.toISOString() }, log),
    runnerQueue,
    workDir: config.workDir,
    slots,
    allowLoopbackTargets: config.allowLoopbackTargets,
    stopGraceMs: config.stopGraceMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    htmlReport: config.htmlReport,
    metricsMaxSeries: config.metricsMaxSeries,
    log,
  })

  const presence = createPresenceActivities(() => ({
    runnerId,
    locations: config.servedLocations,
    slots: { capacity: slots.capacity, used: slots.used },
    sandbox: sandbox.status().mode,
    startedAt,
  }))

  const workers: Worker[] = []
  for (const location of config.servedLocations) {
    workers.push(
      await Worker.create({
        connection,
        identity,
        namespace: config.temporal.namespace,
        taskQueue: taskQueueFor(location),
        activities: { executeK6: k6.executeK6 },
        // One set of k6 slots for every location queue: no task is taken without a free slot.
        tuner: {
          activityTaskSlotSupplier: slots,
          workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
          localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
          nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
        },
        // Console chunks ride on heartbeats: keep them sub-second so none are coalesced away.
        maxHeartbeatThrottleInterval: config.heartbeatIntervalMs,
        defaultHeartbeatThrottleInterval: config.heartbeatIntervalMs,
        shutdownGraceTime: '30 seconds',
      }),
    )
  }
  workers.push(
    await Worker.create({
      connection,
      identity,
      namespace: config.temporal.namespace,
      taskQueue: runnerQueue,
      activities: {
        awaitK6: k6.awaitK6,
        storeArtifacts: k6.storeArtifacts,
        releaseRun: k6.releaseRun,
        ...presence.activities,
      },
      maxConcurrentActivityTaskExecutions: 20,
      maxHeartbeatThrottleInterval: config.heartbeatIntervalMs,
      defaultHeartbeatThrottleInterval: config.heartbeatIntervalMs,
      shutdownGraceTime: '30 seconds',
    }),
  )
  const orchestration = config.orchestration && config.databaseUrl ? { db: createDb(config.databaseUrl), storage: createStorage(config.s3) } : undefined
  if (orchestration) {
    const { db, storage } = orchestration
    workers.push(
      await Worker.create({
        connection,
        identity,
        namespace: config.temporal.namespace,
        taskQueue: ORCHESTRATION_QUEUE,
        workflowBundle: await workflowBundle(),
        activities: {
          ...createPersistenceActivities({ db, storage }),
          ...createDispatchActivities({ db, storage, scriptLimits: config.scriptLimits, ...(config.apiUrl ? { apiUrl: config.apiUrl } : {}) }),
          ...createJobActivities({
            db,
            secretsKey: config.secretsKey,
            webUrl: config.webPublicUrl ?? 'http://127.0.0.1:3000',
            runTimeoutSeconds: config.defaultRunTimeoutSeconds,
            durability: config.durability,
            allowLoopbackTargets: config.allowLoopbackTargets,
            // A scheduled run passes the gates a manual one does, its script validated by k6 in the sandbox.
            runGates: {
              locations: config.locations,
              scriptLimits: config.scriptLimits,
              validate: k6Validator({ sandbox, limits: config.sandbox.validation, timeoutMs: config.sandbox.validationTimeoutMs }),
              readFiles: (projectId) => (sha256) => storage.getBytes(fileBlobKey(projectId, sha256)),
            },
          }),
        },
      }),
    )
  }
  log(`runner ${runnerId}: polling ${[...config.servedLocations.map(taskQueueFor), runnerQueue, ...(orchestration ? [ORCHESTRATION_QUEUE] : [])].join(', ')} (max ${config.maxConcurrency} concurrent k6)`)
  try {
    // Present from now on, as long as this runner lives (the workflow outlives restarts: same id).
    const presenceInput: RunnerPresenceInput = { runnerId, queue: runnerQueue }
    await client.workflow.start(RUNNER_PRESENCE_WORKFLOW, {
      taskQueue: ORCHESTRATION_QUEUE,
      workflowId: presenceWorkflowIdFor(runnerId),
      args: [presenceInput],
      workflowIdConflictPolicy: 'USE_EXISTING',
    })
    await handOverSpools(client, config, runnerQueue, log)
  } catch (err) {
    await client.connection.close()
    throw err
  }
  const running = Promise.all(workers.map((w) => w.run())).then(async () => {
    await client.connection.close()
    await connection.close()
    await orchestration?.db.$disconnect()
    orchestration?.storage.destroy()
  })
  return {
    id: runnerId,
    queue: runnerQueue,
    running,
    async shutdown() {
      presence.stop()
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown()
      await running
    },
  }
}

/**
 * Tells a run's workflow that k6 started, so it records `running`. In the background (k6 is not
 * held up) and retried for a minute: the status is for people watching, the result carries the
 * true start time either way.
 */
async function signalStarted(client: Client, runId: string, signal: K6StartedSignal, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.workflow.getHandle(workflowIdFor(runId)).signal(K6_STARTED_SIGNAL, signal)
      return
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return
      if (attempt >= 6) {
        log(`run ${runId}: could not tell its workflow that k6 started (${err instanceof Error ? err.message : String(err)}); its status shows running only once the result is in`)
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt))
    }
  }
}

/**
 * The run directories a previous life of this runner left (it crashed or was killed): each goes
 * to storeSpooledRun, which stores what it holds once the run's own workflow had its chance.
 */
async function handOverSpools(client: Client, config: RunnerConfig, runnerQueue: string, log: (line: string) => void): Promise<void> {
  const spools = await listSpools(config.workDir)
  if (spools.length === 0) return
  for (const spool of spools) {
    const args: StoreSpooledRunInput = { runId: spool.runId, runner: runnerQueue, durability: config.durability }
    try {
      await client.workflow.start(STORE_SPOOLED_RUN_WORKFLOW, { taskQueue: ORCHESTRATION_QUEUE, workflowId: spoolWorkflowIdFor(spool.runId), args: [args] })
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err
    }
  }
  log(`found ${spools.length} run director${spools.length === 1 ? 'y' : 'ies'} from before this runner restarted; their artifacts will be stored`)
}
