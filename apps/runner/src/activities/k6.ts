// The executeK6 activity: runs one load test on this runner. It heartbeats the console as
// sequenced chunks (the API relays them), learns of cancellation through those heartbeats,
// stops k6 with SIGINT so it still writes its summary and report (SIGKILL after a grace
// period), and uploads whatever artifacts exist. It never restarts k6.
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Context } from '@temporalio/activity'
import { ARTIFACTS, artifactKey, CONSOLE_INDEX_FILE, type ArtifactName, type Artifacts } from '@stampede/shared'
import { k6ErrorMessage } from '@stampede/shared/k6'
import type { K6Outcome, RunWorkflowInput } from '@stampede/shared/temporal'
import type { Storage } from '@stampede/storage'
import { ConsoleRecorder, DEFAULT_WINDOW } from '../k6/console-recorder.ts'
import { detectLanguage, scriptFileName } from '@stampede/shared/script'
import { resolveTargetPolicy } from '@stampede/shared/targets'
import { k6Args, k6Env, OUTPUT_FILES } from '../k6/command.ts'
import type { SpawnK6, K6Exit } from '../k6/process.ts'
import { redactSummaryFile, secretRedactor } from '../k6/redact.ts'
import { withRetry } from '../retry.ts'
import type { RunSpec } from './run-spec.ts'

export interface RunStateStore {
  /** The script, plain variables and decrypted secrets, read when k6 starts (never passed through Temporal). */
  loadRun(runId: string): Promise<RunSpec>
  markRunning(runId: string, startedAt: Date): Promise<void>
}

export interface K6ActivityDeps {
  spawnK6: SpawnK6
  storage: Storage
  runs: RunStateStore
  k6BinPath: string
  workRoot: string
  /** Single-machine mode (ALLOW_LOOPBACK_TARGETS): k6 may reach loopback addresses. */
  allowLoopbackTargets: boolean
  /** How long k6 gets after SIGINT to write its summary before SIGKILL. */
  stopGraceMs: number
  heartbeatIntervalMs: number
  log?: (message: string) => void
}

const MAX_ERROR_TEXT = 4000
const IDLE_HEARTBEAT_MS = 1000

export function createK6Activities(deps: K6ActivityDeps) {
  const log = deps.log ?? (() => {})

  async function uploadArtifacts(runId: string, dir: string): Promise<Artifacts> {
    const artifacts: Artifacts = {}
    for (const [name, def] of Object.entries(ARTIFACTS) as [ArtifactName, (typeof ARTIFACTS)[ArtifactName]][]) {
      const file = path.join(dir, def.file)
      if (!existsSync(file)) continue
      artifacts[name] = await withRetry(`upload of ${def.file}`, () => deps.storage.putFile(artifactKey(runId, def.file), file, def.contentType))
    }
    const index = path.join(dir, OUTPUT_FILES.consoleIndex)
    if (existsSync(index)) {
      await withRetry('upload of the console index', () => deps.storage.putFile(artifactKey(runId, CONSOLE_INDEX_FILE), index, 'application/x-ndjson'))
    }
    return artifacts
  }

  async function executeK6(input: RunWorkflowInput): Promise<K6Outcome> {
    const ctx = Context.current()
    const { runId } = input
    const { script, env: runEnv, secrets, allowlist } = await withRetry('loading the run', () => deps.runs.loadRun(runId))
    // Private, loopback, link-local and metadata targets stay blocked unless the project opens them.
    const policy = await resolveTargetPolicy({ allowLoopback: deps.allowLoopbackTargets, allowlist })
    // Secrets reach k6 only through its environment; every line of its output is masked.
    const redact = secretRedactor(Object.values(secrets))
    const dir = await mkdtemp(path.join(deps.workRoot, `run-${runId}-`))
    await chmod(dir, 0o700)
    try {
      const scriptFile = scriptFileName(detectLanguage(script))
      await writeFile(path.join(dir, scriptFile), script, { mode: 0o600 })
      // k6's error lines become the run's error text, of which only the first MAX_ERROR_TEXT
      // characters are kept: stop collecting there (a script may log errors every iteration).
      const errors: string[] = []
      let errorChars = 0
      const addError = (message: string) => {
        if (errorChars >= MAX_ERROR_TEXT) return
        errors.push(message)
        errorChars += message.length + 1
      }
      const recorder = new ConsoleRecorder(path.join(dir, OUTPUT_FILES.log), path.join(dir, OUTPUT_FILES.consoleIndex), DEFAULT_WINDOW, Date.now, redact)
      for (const warning of policy.warnings) recorder.add('stderr', `level=warning msg="target allowlist: ${warning.replaceAll('"', "'")}" source=stampede`)
      const startedAt = new Date()
      await withRetry('marking the run as running', () => deps.runs.markRunning(runId, startedAt))
      log(`run ${runId}: starting k6 on ${input.locationId}`)

      const proc = deps.spawnK6({
        binPath: deps.k6BinPath,
        args: k6Args(scriptFile, policy),
        env: k6Env(dir, { ...runEnv, ...secrets }),
        cwd: dir,
        onLine: (stream, text) => {
          const line = recorder.add(stream, text)
          if (stream === 'stderr') {
            const message = k6ErrorMessage(line.text)
            if (message !== undefined) addError(message)
          }
        },
      })

      // New lines go out on the next tick; an unchanged window is re-sent once a second so the
      // activity stays alive and learns of cancellation without re-serialising it every tick.
      let lastChunk = recorder.takeChunk(true)
      let lastSentAt = Date.now()
      ctx.heartbeat(lastChunk)
      const ticker = setInterval(() => {
        const chunk = recorder.takeChunk()
        if (chunk) lastChunk = chunk
        else if (Date.now() - lastSentAt < IDLE_HEARTBEAT_MS) return
        lastSentAt = Date.now()
        ctx.heartbeat(lastChunk)
      }, deps.heartbeatIntervalMs)

      let reason: K6Outcome['reason'] = 'exited'
      let killTimer: NodeJS.Timeout | undefined
      const stop = (why: 'cancelled' | 'timed_out') => {
        if (reason !== 'exited') return
        reason = why
        log(`run ${runId}: stopping k6 (${why})`)
        proc.signal('SIGINT')
        killTimer = setTimeout(() => proc.signal('SIGKILL'), deps.stopGraceMs)
      }
      const onCancel = () => stop('cancelled')
      ctx.cancellationSignal.addEventListener('abort', onCancel)
      const timeoutTimer = setTimeout(() => stop('timed_out'), input.timeoutSeconds * 1000)

      let exit: K6Exit
      try {
        exit = await proc.exited
      } catch (err) {
        exit = { code: null, signal: null }
        addError(redact(`could not start k6 (${deps.k6BinPath}): ${err instanceof Error ? err.message : String(err)}`))
      } finally {
        clearTimeout(timeoutTimer)
        if (killTimer) clearTimeout(killTimer)
        ctx.cancellationSignal.removeEventListener('abort', onCancel)
      }
      const finishedAt = new Date()
      await recorder.close()
      // The summary (metric data, but check and group names come from the script) is stored
      // in the database too: mask secrets in it as well.
      if (Object.keys(secrets).length > 0) await redactSummaryFile(path.join(dir, OUTPUT_FILES.summary), redact)
      try {
        const artifacts = await uploadArtifacts(runId, dir)
        log(`run ${runId}: k6 ended (${reason}, exit ${exit.code ?? exit.signal})`)
        const errorText = errors.join('\n').slice(0, MAX_ERROR_TEXT)
        return {
          exitCode: exit.code,
          signal: exit.signal,
          reason,
          startedAt: startedAt.toISOString(),
          finishedAt: finishedAt.toISOString(),
          artifacts,
          consoleLines: recorder.lastSeq,
          errorText: errorText === '' ? null : errorText,
        }
      } finally {
        clearInterval(ticker)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  return { executeK6 }
}

export type K6Activities = ReturnType<typeof createK6Activities>
