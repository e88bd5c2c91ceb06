// The k6 activities. executeK6 runs one load test on this runner, k6 in its sandbox: it heartbeats
// the console as sequenced chunks (the API relays them) with this runner's own queue, learns of
// cancellation through those heartbeats, stops k6 with SIGINT so it still writes its summary and
// report (SIGKILL after a grace period), holds the run's VU and duration caps while k6 runs, ends
// the run at the sandbox's limits with a message naming them, and answers with the outcome read
// from k6's summary. It never restarts k6, and it does not upload: the run's directory is its
// spool (k6/spool.ts) until storeArtifacts, on this runner's own queue and retried by Temporal for
// as long as storage is down, has stored it through presigned URLs minted for that run.
// A location runner holds no platform credentials: the script, variables and caps come in the
// activity input, the secrets through a single-use grant redeemed at the API (k6/secrets.ts), and
// `running` is recorded by the workflow when the runner signals that k6 started.
// A k6 outlives a lost activity (Temporal unreachable past the heartbeat timeout): it runs on to
// its end and awaitK6, on this runner's own queue, follows it again or reports how it ended.
import { existsSync } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { ApplicationFailure, Context } from '@temporalio/activity'
import { ARCHIVE_ENTRY, fileSizeHit, formatBytes, limitFromExit, SANDBOX_WORK_DIR, type K6Sandbox, type LimitHit } from '@stampede/sandbox'
import { ARTIFACTS, artifactKey, CONSOLE_INDEX_FILE, type ArtifactName, type Artifacts } from '@stampede/shared'
import { capsOwner, formatSeconds } from '@stampede/shared/caps'
import { k6ErrorMessage } from '@stampede/shared/k6'
import { LIMIT_SETTINGS, type K6ProcessLimits } from '@stampede/shared/platform-config'
import { RUNNER_BUSY, type ArtifactUploads, type K6Heartbeat, type K6Outcome, type K6Task, type PackedFrame } from '@stampede/shared/temporal'
import { ConsoleRecorder, DEFAULT_WINDOW, type WindowChunk } from '../k6/console-recorder.ts'
import { FrameTail, nextFrameRead } from '../k6/frame-tail.ts'
import { detectLanguage, scriptFileName } from '@stampede/shared/script'
import { resolveTargetPolicy } from '@stampede/shared/targets'
import { K6_OUTPUTS, k6RunFlags, k6Writes, OUTPUT_FILES } from '../k6/command.ts'
import { controlAddress, holdCaps, type K6Control } from '../k6/control.ts'
import type { SpawnK6, K6Exit } from '../k6/process.ts'
import { NOT_STORED, redactArtifacts, secretRedactor } from '../k6/redact.ts'
import { putPresigned } from '../k6/upload.ts'
import { assertFileLinksValid, fetchBlob, taskLayout } from '../k6/files.ts'
import { redeemSecrets as redeemAtApi, type RedeemSecrets } from '../k6/secrets.ts'
import type { K6Slots } from '../slots.ts'
import { dropEmptyOutputs, findSpool, packFrames, lostOutcome, readMeta, readOutcome, removeSpool, spoolPrefix, summaryResult, writeMeta, writeOutcome, type SpoolDir } from '../k6/spool.ts'

export interface K6ActivityDeps {
  spawnK6: SpawnK6
  /** Where every k6 process runs (its private directory, namespaces, limits). */
  sandbox: K6Sandbox
  /** Memory, threads and file size of each run's k6. */
  limits: K6ProcessLimits
  /** The largest console log a run may write. */
  maxLogBytes: number
  /**
   * k6's REST API at an address, through which the VU cap is held while k6 runs. Without it k6
   * starts unpaused and only the duration cap is held (unit tests of other behaviour).
   */
  control?: (address: string) => K6Control
  /** Redeems a run's secrets grant (default: at the API, over HTTPS). */
  redeemSecrets?: RedeemSecrets
  /** Tells the run's workflow that k6 started (it records `running`); must not throw. */
  reportStarted(runId: string, startedAt: Date): void
  /** Uploads one spooled file through a presigned URL (default: putPresigned). */
  upload?: typeof putPresigned
  /** This runner's own queue (runnerQueueFor): sent with every heartbeat, so a lost activity's k6 can be found again. */
  runnerQueue: string
  /** Where the runs' directories (spools) are: the sandbox's root. */
  workDir: string
  /** The runner's k6 slots: a k6 that outlives its activity keeps its slot. */
  slots?: K6Slots
  /** Single-machine mode (ALLOW_LOOPBACK_TARGETS): k6 may reach loopback addresses. */
  allowLoopbackTargets: boolean
  /** How long k6 gets after SIGINT to write its summary before SIGKILL. */
  stopGraceMs: number
  heartbeatIntervalMs: number
  /** How often the VU cap is checked while k6 runs (default 500 ms). */
  capCheckMs?: number
  /** Past the duration cap, the time setup() and teardown() may add (default DURATION_ALLOWANCE_SECONDS). */
  durationAllowanceSeconds?: number
  /** Runs write k6's HTML report (default true; K6_HTML_REPORT). */
  htmlReport?: boolean
  /** The cap on tagged metric series per run (METRICS_MAX_SERIES; k6's default, 1000, when absent). */
  metricsMaxSeries?: number
  log?: (message: string) => void
}

const MAX_ERROR_TEXT = 4000
/** The console chunk of a heartbeat sent before k6 printed anything. */
const NO_LINES: WindowChunk = { fromSeq: 1, lines: [], lastSeq: 0 }
const IDLE_HEARTBEAT_MS = 1000
/** Past the duration cap, the time setup() and teardown() may add before the runner stops k6. */
export const DURATION_ALLOWANCE_SECONDS = 60
/** k6 still initialising after this long counts as running all the same. */
const REPORT_STARTED_AFTER_MS = 1000
/** How many of k6's raw stderr lines (not log records: Go runtime errors) are kept to tell which limit ended it. */
const MAX_RAW_LINES = 50

export function createK6Activities(deps: K6ActivityDeps) {
  const log = deps.log ?? (() => {})
  /** Runs whose k6 this process started and that have not ended yet. */
  const live = new Map<string, LiveRun>()

  const beat = (ctx: Context, chunk: WindowChunk, k6Started: boolean, packed: PackedFrame[] = []) => {
    const details: K6Heartbeat = { ...chunk, runner: deps.runnerQueue, k6Started, ...(packed.length > 0 ? { packed } : {}) }
    ctx.heartbeat(details)
  }

  async function executeK6(input: K6Task): Promise<K6Outcome> {
    const ctx = Context.current()
    // Two location queues can hand over runs at once for the last free slot: the second goes back.
    const admitted = deps.slots ? deps.slots.admit() : () => {}
    if (!admitted) throw ApplicationFailure.nonRetryable(`runner ${deps.runnerQueue} has no free k6 slot; the run goes back to the queue`, RUNNER_BUSY)
    try {
      // The first heartbeat names this runner before anything else happens.
      beat(ctx, NO_LINES, false)
      const run = await startRun(input)
      return await follow(run, ctx)
    } finally {
      admitted()
    }
  }

  /**
   * On this runner's own queue, after the run's executeK6 activity was lost: follows the k6 this
   * process still runs, or answers how it ended (its spooled outcome), or that it died with an
   * earlier run of this runner. Null: this runner has no trace of the run.
   */
  async function awaitK6({ runId }: { runId: string }): Promise<K6Outcome | null> {
    const ctx = Context.current()
    const recovered = 'Temporal lost track of the run for a while; k6 went on and this is its own result'
    const run = live.get(runId)
    if (run) {
      run.notice('warning', 'Stampede lost contact with this run for a while (Temporal did not hear from the runner in time); k6 went on and its result is kept.')
      return { ...(await follow(run, ctx)), recovered }
    }
    beat(ctx, NO_LINES, true)
    const spool = await findSpool(deps.workDir, runId)
    if (!spool) return null
    const done = await readOutcome(spool)
    if (done) return { ...done, recovered }
    return lostOutcome(spool, await readMeta(spool), deps.runnerQueue)
  }

  /**
   * On this runner's own queue: stores a run's spooled artifacts (one attempt; Temporal retries
   * while storage is down). k6's own files are stored only once the outcome was written, after
   * they were masked; a run that died with its runner stores its console (masked line by line).
   */
  async function storeArtifacts({ runId, uploads }: { runId: string; uploads: ArtifactUploads }): Promise<Artifacts> {
    const spool = await findSpool(deps.workDir, runId)
    if (!spool) return {}
    if (uploads.runId !== runId) throw ApplicationFailure.nonRetryable(`the upload URLs are for run ${uploads.runId}, not ${runId}`)
    const finished = (await readOutcome(spool)) !== undefined
    if (!finished) await dropEmptyOutputs(spool.dir)
    const put = deps.upload ?? putPresigned
    const target = (file: string) => {
      const upload = uploads.files[file]
      if (!upload) throw ApplicationFailure.nonRetryable(`no upload URL was minted for ${file}`)
      return upload
    }
    const artifacts: Artifacts = {}
    for (const [name, def] of Object.entries(ARTIFACTS) as [ArtifactName, (typeof ARTIFACTS)[ArtifactName]][]) {
      if (name !== 'log' && !finished) continue
      const file = path.join(name === 'log' ? spool.base : spool.dir, def.file)
      if (!existsSync(file)) continue
      artifacts[name] = { key: artifactKey(runId, def.file), ...(await put(target(def.file), file)) }
    }
    const index = path.join(spool.base, OUTPUT_FILES.consoleIndex)
    if (existsSync(index)) await put(target(CONSOLE_INDEX_FILE), index)
    log(`run ${runId}: artifacts stored (${Object.keys(artifacts).join(', ') || 'none'})`)
    return artifacts
  }

  /** On this runner's own queue: removes a run's spool once its artifacts are attached to the run. */
  async function releaseRun({ runId }: { runId: string }): Promise<void> {
    if (live.has(runId)) return
    const spool = await findSpool(deps.workDir, runId)
    if (spool) await removeSpool(spool)
  }

  /** Heartbeats a run's console until k6 ends, and passes cancellation on to it. */
  async function follow(run: LiveRun, ctx: Context): Promise<K6Outcome> {
    // Driven by what k6 writes, not by a ticker: the runner wakes only when there is something to
    // send, since a CPU-bound k6 beside it loses throughput to every wakeup of the machine, not
    // only to CPU time. A new console line goes out heartbeatIntervalMs later, with whatever else
    // arrived meanwhile (k6's progress is three lines: one heartbeat); an unchanged window is
    // re-sent once a second so the activity stays alive and learns of cancellation. A metric
    // frame rides on the next heartbeat, whichever it is, and on those of the few seconds after:
    // k6 prints its progress every second at a moment of its own, so a heartbeat for each frame
    // as well doubled the heartbeats (and Temporal's work) of every run, while a frame's latency
    // may be a second (the live charts' target is 1.5 s) and a console line's may not.
    let lastChunk = run.recorder.takeChunk(true)!
    let flush: NodeJS.Timeout | undefined
    let idle: NodeJS.Timeout | undefined
    let frameRead: NodeJS.Timeout | undefined
    let following = true
    const send = () => {
      clearTimeout(flush)
      clearTimeout(idle)
      flush = undefined
      const chunk = run.recorder.takeChunk()
      if (chunk) lastChunk = chunk
      beat(ctx, lastChunk, run.k6Started, run.frames.recent())
      idle = setTimeout(send, IDLE_HEARTBEAT_MS)
    }
    const soon = () => {
      flush ??= setTimeout(send, deps.heartbeatIntervalMs)
    }
    const readFrames = () => {
      void run.frames.poll().then((arrived) => {
        if (!following) return
        frameRead = setTimeout(readFrames, nextFrameRead(Date.now(), arrived))
      })
    }
    const unwatch = run.recorder.watch(soon)
    send()
    readFrames()
    let detach!: (why: string) => void
    const detached = new Promise<string>((resolve) => (detach = resolve))
    const onCancel = () => {
      const why = cancelReason(ctx)
      if (why === 'CANCELLED') return run.stop('cancelled')
      if (why === 'WORKER_SHUTDOWN') return run.stop('runner_stopped', 'The runner was shut down during the run, so k6 was stopped; what it wrote until then is kept.')
      // TIMED_OUT / NOT_FOUND: Temporal no longer expects this activity. k6 is not stopped: it runs
      // to its end and the workflow finds it again through awaitK6.
      detach(why)
    }
    ctx.cancellationSignal.addEventListener('abort', onCancel)
    if (ctx.cancellationSignal.aborted) onCancel()
    try {
      const ended = await Promise.race([run.outcome.then((outcome) => ({ outcome })), detached.then((why) => ({ why }))])
      if ('outcome' in ended) return ended.outcome
      deps.slots?.hold(run.outcome)
      log(`run ${run.runId}: Temporal gave up on its k6 activity (${ended.why}); k6 goes on and its outcome is kept`)
      throw ctx.cancellationSignal.reason instanceof Error ? ctx.cancellationSignal.reason : new Error(`the k6 activity was lost (${ended.why})`)
    } finally {
      following = false
      unwatch()
      clearTimeout(flush)
      clearTimeout(idle)
      clearTimeout(frameRead)
      ctx.cancellationSignal.removeEventListener('abort', onCancel)
    }
  }

  /** Starts k6 for a run: its spool, its console, its caps and limits. Resolves once k6 is spawned. */
  async function startRun(input: K6Task): Promise<LiveRun> {
    const { runId, script, env: runEnv, allowlist, caps } = input
    assertFileLinksValid(input)
    const secrets = input.secrets ? await (deps.redeemSecrets ?? redeemAtApi)(runId, input.secrets) : {}
    // Private, loopback, link-local and metadata targets stay blocked unless the project opens them.
    const policy = await resolveTargetPolicy({ allowLoopback: deps.allowLoopbackTargets, allowlist })
    // Secrets reach k6 only through its environment; every line of its output is masked.
    const redact = secretRedactor(Object.values(secrets))
    const { sandbox } = deps
    const privateDir = await sandbox.makeDir(spoolPrefix(runId))
    const spool: SpoolDir = { base: privateDir.base, dir: privateDir.path }
    const dir = privateDir.path
    const scriptName = input.archive ? ARCHIVE_ENTRY : scriptFileName(detectLanguage(script))
    const writes = k6Writes({ rawSamples: input.rawSamples === true })
    let recorder: ConsoleRecorder
    let frames: FrameTail
    let startedAt: Date
    try {
      await writeMeta(spool.base, { runId })
      // The same directory as validation's: the script and its files (or the archive) and every
      // output file (only `writes` writable).
      const archive = input.archive
      if (archive) await sandbox.prepare(privateDir, scriptName, (target) => fetchBlob(archive, target, 'archive.tar'))
      else await sandbox.prepare(privateDir, scriptName, script, taskLayout(input.files ?? []))
      recorder = new ConsoleRecorder(path.join(privateDir.base, OUTPUT_FILES.log), path.join(privateDir.base, OUTPUT_FILES.consoleIndex), DEFAULT_WINDOW, Date.now, redact)
      frames = new FrameTail(path.join(dir, OUTPUT_FILES.frames), redact)
      startedAt = new Date()
      await writeMeta(spool.base, { runId, startedAt: startedAt.toISOString() })
    } catch (err) {
      // Nothing ran: nothing to keep.
      await removeSpool(spool)
      throw err
    }
    const notice = (level: 'warning' | 'error', message: string) => {
      if (!closed) recorder.add('stderr', `level=${level} msg="${message.replaceAll('"', "'")}" source=stampede`)
    }
    let closed = false
    for (const warning of policy.warnings) notice('warning', `target allowlist: ${warning}`)
    // k6's error lines become the run's error text, of which only the first MAX_ERROR_TEXT
    // characters are kept: stop collecting there (a script may log errors every iteration).
    const errors: string[] = []
    let errorChars = 0
    const addError = (message: string) => {
      if (errorChars >= MAX_ERROR_TEXT) return
      errors.push(message)
      errorChars += message.length + 1
    }
    const rawLines: string[] = []
    log(`run ${runId}: starting k6 on ${input.locationId}`)

    let reason: K6Outcome['reason'] = 'exited'
    let limitMessage: string | undefined
    let killTimer: NodeJS.Timeout | undefined
    let logFull = false
    // eslint-disable-next-line prefer-const -- assigned once k6 is spawned; stop() may run from its first output line
    let proc: ReturnType<SpawnK6> | undefined
    const stop: LiveRun['stop'] = (why, message, opts = {}) => {
      if (reason !== 'exited') return
      reason = why
      if (message !== undefined) {
        limitMessage = message
        notice('error', message)
      }
      log(`run ${runId}: stopping k6 (${why}${message ? `: ${message}` : ''})`)
      if (opts.now) return proc?.signal('SIGKILL')
      proc?.signal('SIGINT')
      killTimer = setTimeout(() => proc?.signal('SIGKILL'), deps.stopGraceMs)
    }

    const address = deps.control ? controlAddress() : undefined
    proc = deps.spawnK6({
      plan: sandbox.plan({
        dir: privateDir,
        invocation: {
          purpose: 'run',
          scriptFile: scriptName,
          vars: { ...runEnv, ...secrets },
          flags: k6RunFlags(policy, { ...(address ? { control: address } : {}), rawSamples: input.rawSamples === true, report: deps.htmlReport !== false }),
          ...(deps.metricsMaxSeries === undefined ? {} : { maxSeries: deps.metricsMaxSeries }),
        },
        limits: deps.limits,
        writable: writes,
      }),
      maxRssBytes: deps.limits.memoryBytes,
      onLine: (stream, text) => {
        if (logFull || closed) return
        const line = recorder.add(stream, text)
        if (stream === 'stderr') {
          const message = k6ErrorMessage(line.text)
          if (message !== undefined) addError(message)
          else if (!line.text.startsWith('time=') && rawLines.length < MAX_RAW_LINES) rawLines.push(line.text)
        }
        if (recorder.bytesWritten > deps.maxLogBytes) {
          logFull = true
          stop('limit', `k6's console output passed ${formatBytes(deps.maxLogBytes)} (${LIMIT_SETTINGS.log}); the run was stopped and the rest of its output dropped. Log less, for example only failures.`)
        }
      },
    })
    const run: LiveRun = { runId, recorder, frames, k6Started: true, stop, notice, outcome: undefined as unknown as Promise<K6Outcome> }
    // The workflow records `running` when told; told once the load has started (or k6 has been
    // initialising for a second), so that work stays off the path to k6's first request.
    let reported = false
    const reportStarted = () => {
      if (reported) return
      reported = true
      clearTimeout(reportTimer)
      deps.reportStarted(runId, startedAt)
    }
    const reportTimer = setTimeout(reportStarted, REPORT_STARTED_AFTER_MS)

    const timeoutTimer = setTimeout(() => stop('timed_out'), input.timeoutSeconds * 1000)
    // The duration cap counts from the start of the load (the resume), plus time for setup() and teardown().
    let durationTimer: NodeJS.Timeout | undefined
    const allowance = deps.durationAllowanceSeconds ?? DURATION_ALLOWANCE_SECONDS
    const loadStarted = () => {
      reportStarted()
      durationTimer = setTimeout(
        () => stop('limit', `The run went on past ${formatSeconds(caps.maxDurationSeconds)}, ${capsOwner(caps)}'s duration cap (plus ${allowance} s for setup() and teardown()); it was stopped.`),
        (caps.maxDurationSeconds + allowance) * 1000,
      )
    }
    const capHold = address && deps.control ? holdCaps(deps.control(address), caps, { stop, loadStarted, log: (m) => log(`run ${runId}: ${m}`), everyMs: deps.capCheckMs ?? 500 }) : undefined
    if (!capHold) loadStarted()

    const finish = async (): Promise<K6Outcome> => {
      let exit: K6Exit
      try {
        exit = await proc.exited
      } catch (err) {
        exit = { code: null, signal: null }
        addError(redact(`could not start k6: ${err instanceof Error ? err.message : String(err)}`))
      } finally {
        capHold?.stop()
        clearTimeout(reportTimer)
        clearTimeout(timeoutTimer)
        if (durationTimer) clearTimeout(durationTimer)
        if (killTimer) clearTimeout(killTimer)
      }
      const finishedAt = new Date()
      await dropEmptyOutputs(dir)
      if (exit.sandboxError !== undefined) addError(`the k6 sandbox could not start: ${exit.sandboxError.replaceAll(dir, SANDBOX_WORK_DIR)}`)
      // A limit of the sandbox ended k6 (memory, threads) or cut a file it wrote.
      if (reason === 'exited') {
        const hit = limitFromExit(rawLines, exit, deps.limits, LIMIT_SETTINGS.run) ?? (await fileLimitHit(dir, deps.limits))
        if (hit) {
          reason = 'limit'
          limitMessage = hit.message
          notice('error', hit.message)
        }
      }
      await frames.close()
      // Check and group names, tags, URLs and metric names come from the script: mask secrets in
      // every artifact before it is kept, before the console closes. The metric frames are masked
      // as they are packed (plain NDJSON → mask → gzip, compressed once); redactArtifacts masks
      // the summary, the HTML report and the raw samples.
      try {
        const started = performance.now()
        const packed = await packFrames(dir, redact)
        if (packed?.masked) log(`run ${runId}: ${OUTPUT_FILES.frames} (${(packed.bytes / 1e6).toFixed(1)} MB) checked for secrets and packed in ${((performance.now() - started) / 1000).toFixed(2)} s`)
      } catch (err) {
        notice('warning', NOT_STORED.metrics(redact(err instanceof Error ? err.message : String(err))))
        await rm(path.join(dir, OUTPUT_FILES.frames), { force: true })
        await rm(path.join(dir, OUTPUT_FILES.metrics), { force: true })
      }
      for (const message of await redactArtifacts(dir, redact, { log: (m) => log(`run ${runId}: ${m}`) })) notice('warning', message)
      closed = true
      await recorder.close()
      log(`run ${runId}: k6 ended (${reason}, exit ${exit.code ?? exit.signal})`)
      const errorText = [...(limitMessage ? [limitMessage] : []), ...errors].join('\n').slice(0, MAX_ERROR_TEXT)
      const outcome: K6Outcome = {
        exitCode: exit.code,
        signal: exit.signal,
        reason,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        consoleLines: recorder.lastSeq,
        errorText: errorText === '' ? null : errorText,
        result: await summaryResult(dir),
        runner: deps.runnerQueue,
      }
      // Written last: a spool with an outcome is a finished run whose files are safe to store.
      await writeOutcome(spool.base, outcome)
      return outcome
    }
    run.outcome = finish()
    live.set(runId, run)
    void run.outcome.then(
      () => live.delete(runId),
      (err: unknown) => {
        live.delete(runId)
        log(`run ${runId}: could not finish the run's files: ${err instanceof Error ? err.message : String(err)}`)
      },
    )
    return run
  }

  /** The output file k6 could not finish because it reached the file-size limit, if any. */
  async function fileLimitHit(dir: string, limits: K6ProcessLimits): Promise<LimitHit | undefined> {
    for (const file of K6_OUTPUTS) {
      const size = await stat(path.join(dir, file)).then((s) => s.size, () => 0)
      const hit = fileSizeHit(file, size, limits, LIMIT_SETTINGS.run)
      if (hit) return hit
    }
    return undefined
  }

  return { executeK6, awaitK6, storeArtifacts, releaseRun }
}

/** Why Temporal cancelled the activity: CANCELLED (the run was cancelled), TIMED_OUT, NOT_FOUND, WORKER_SHUTDOWN, … */
function cancelReason(ctx: Context): string {
  const reason: unknown = ctx.cancellationSignal.reason
  return reason instanceof Error ? reason.message : String(reason)
}

/** A k6 this process started, until it ends. */
interface LiveRun {
  runId: string
  recorder: ConsoleRecorder
  /** The metric frames k6 writes, followed for heartbeats. */
  frames: FrameTail
  k6Started: boolean
  stop(why: 'cancelled' | 'timed_out' | 'limit' | 'runner_stopped', message?: string, opts?: { now?: boolean }): void
  /** A Stampede line in the run's console (until it closes). */
  notice(level: 'warning' | 'error', message: string): void
  /** Resolves when k6 has ended and its outcome is spooled. */
  outcome: Promise<K6Outcome>
}

export type K6Activities = ReturnType<typeof createK6Activities>
