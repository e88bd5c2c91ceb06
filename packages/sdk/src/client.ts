// createStampedeClient: the API's tRPC client, typed from its AppRouter, plus the helpers a
// pipeline needs (follow the console, wait for the result, run a script end to end). Every
// procedure call rejects with a typed StampedeError instead of a raw TRPCClientError.
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client'
import { isTerminal, type ApiVersionInfo } from '@stampede/shared'
import { followConsoleWith, followMetricsWith, type ConsoleEvent, type FollowConsoleOptions, type FollowMetricsOptions, type MetricsEvent } from './console.ts'
import { StampedeApiError, StampedeError, StampedeVersionError, StampedeWaitTimeoutError, toStampedeError } from './errors.ts'
import { uploadBlob, uploadFiles, uploadFileTo, type FileRef, type FileUpload, type StoredFile, type UploadFileOptions } from './files.ts'
import type { AppRouter, Run, RunStartInput } from './types.ts'
import { compareWithApi, SDK_IDENTITY, type ClientIdentity } from './version.ts'
import { webSocketFactory, type WebSocketClass, type WebSocketLike } from './websocket.ts'

export interface StampedeClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:4000`. */
  url: string
  /** Sent as `Authorization: Bearer <token>` (HTTP, and the console socket where headers are possible). */
  token?: string | undefined
  /** WebSocket class for the console, e.g. `ws`'s default export; default: the global one, else `ws`. */
  WebSocket?: WebSocketClass
  /** fetch implementation; default: the global one. */
  fetch?: typeof fetch
  /** Value of the `x-stampede-client` header (default `sdk`). */
  client?: 'sdk' | 'cli'
  /**
   * Called once when the API is newer than this SDK by a minor or major version (what it added
   * since is not available here). Default: console.warn.
   */
  onWarning?: (message: string) => void
  /**
   * Check the API's version (`meta.version`) once, before the first call (default true). An API
   * of another compatibility level makes every call reject with StampedeVersionError.
   */
  versionCheck?: boolean
}

export interface WaitForRunOptions {
  signal?: AbortSignal
  /** Give up (StampedeWaitTimeoutError) after this long; the run is not touched. Default: never. */
  timeoutMs?: number
  /** Default 1000 ms. */
  pollIntervalMs?: number
}

/**
 * `runs.start`'s input: location, timeoutSeconds, env, rawSamples, … and either a script or a
 * saved test. `rawSamples: true` also keeps k6's per-sample JSON stream as the run's `samples`
 * artifact (samples.json.gz; `runs.artifactUrl({ runId, name: 'samples' })`), at a cost of up to
 * ~40 % of k6's request rate on CPU-bound scripts; every run keeps the per-second `metrics`
 * artifact anyway. Left out, a saved test's own setting (`tests.create/update({ rawSamples })`)
 * applies, and an unsaved script runs without.
 *
 * An unsaved script's `files` (`{ path, content }`, paths relative to the script) are uploaded
 * first, only those the project lacks (uploadFiles); entries already uploaded can be given as
 * `{ path, sha256 }`. An `archive` (the bytes of a `k6 archive` .tar, or the sha256 of one
 * uploaded before) runs instead of a script.
 */
export type RunScriptInput = Omit<RunStartInput, 'script' | 'testId' | 'files' | 'archive'> &
  (
    | { script: string; files?: readonly (FileUpload | FileRef)[]; testId?: never; archive?: never }
    | { testId: string; script?: never; files?: never; archive?: never }
    | { archive: Uint8Array | string; script?: never; testId?: never; files?: never }
  )

export interface RunScriptOptions {
  /** Every console event, as it arrives. */
  onEvent?: (event: ConsoleEvent, run: Run) => void
  /** Aborting cancels the run; runScript then resolves with the cancelled run. */
  signal?: AbortSignal
}

export interface StampedeHelpers {
  readonly url: string
  /** The live console of a run; resumes after disconnects by itself and ends after `end`. */
  followConsole(runId: string, opts?: FollowConsoleOptions): AsyncGenerator<ConsoleEvent, void, undefined>
  /**
   * The run's live metric frames, one per second (packages/k6-output/FRAMES.md; merge them with
   * `@stampede/sdk/frames`); resumes after disconnects by itself, each period once, and ends after `end`.
   */
  followMetrics(runId: string, opts?: FollowMetricsOptions): AsyncGenerator<MetricsEvent, void, undefined>
  /** Resolves with the run once it has a final status. */
  waitForRun(runId: string, opts?: WaitForRunOptions): Promise<Run>
  /** Starts a run, follows its console until it ends and resolves with the final run. */
  runScript(input: RunScriptInput, opts?: RunScriptOptions): Promise<Run>
  /**
   * Stores one file (or a k6 archive) in the project: `POST /files` with the raw bytes; resolves
   * with its sha256 and size. Pass `sha256` to have the API refuse bytes that do not match. To
   * upload a test's files, only those the project lacks, use uploadFiles(client, …).
   */
  uploadFile(content: Uint8Array, opts?: UploadFileOptions): Promise<StoredFile>
  /**
   * Asks the API its version now (once per client; later calls answer from the first) and warns
   * (onWarning) when it is newer by a minor or major version. Rejects with StampedeVersionError
   * when the API speaks another compatibility level, and with the call's own error (e.g.
   * StampedeConnectionError) when it cannot ask. Resolves with null for an API that predates
   * `meta.version`. Without this call the client checks lazily before its first procedure call
   * (the console streams do not wait for it).
   */
  checkVersion(): Promise<ApiVersionInfo | null>
}

export type StampedeClient = TRPCClient<AppRouter> & StampedeHelpers

/**
 * Wraps the tRPC proxy so each `query`/`mutate` rejects with a StampedeError, and waits for
 * `before` (the version check) first.
 */
function withTypedErrors<T extends object>(target: T, url: string, before: () => Promise<unknown>, path: string[] = []): T {
  return new Proxy(target, {
    get(t, key) {
      const value = Reflect.get(t, key) as unknown
      if (typeof key !== 'string' || (typeof value !== 'function' && (typeof value !== 'object' || value === null))) return value
      return withTypedErrors(value as object, url, before, [...path, key])
    },
    apply(t, thisArg, args) {
      const procedure = path.slice(0, -1).join('.')
      const method = path.at(-1)
      if (method === 'query' || method === 'mutate') {
        return before()
          .then(() => Reflect.apply(t as (...a: unknown[]) => unknown, thisArg, args))
          .catch((err: unknown) => Promise.reject(toStampedeError(err, url, procedure)))
      }
      try {
        const result = Reflect.apply(t as (...a: unknown[]) => unknown, thisArg, args)
        return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(toStampedeError(err, url, procedure))) : result
      } catch (err) {
        throw toStampedeError(err, url, procedure)
      }
    },
  })
}

export function createStampedeClient(opts: StampedeClientOptions): StampedeClient {
  const url = opts.url.replace(/\/+$/, '')
  if (!/^https?:\/\//.test(url)) throw new StampedeError(`url must start with http:// or https:// (got "${opts.url}")`)
  const headers: Record<string, string> = { 'x-stampede-client': opts.client ?? 'sdk', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) }
  const raw = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: () => headers, ...(opts.fetch ? { fetch: opts.fetch } : {}) })] })

  // The version check: one `meta.version` call per client, remembered once it has an answer (a
  // failed attempt is tried again on the next call). Only an incompatible API stops calls.
  const identity: ClientIdentity = opts.client === 'cli' ? { ...SDK_IDENTITY, what: 'the stampede CLI', upgrade: 'npm install @stampede/cli@latest' } : SDK_IDENTITY
  const warn = opts.onWarning ?? ((message: string) => console.warn(`${identity.what}: ${message}`))
  let versionAnswer: Promise<ApiVersionInfo | null> | undefined
  const checkVersion = (): Promise<ApiVersionInfo | null> => {
    versionAnswer ??= (async () => {
      let info: unknown
      try {
        info = await raw.meta.version.query()
      } catch (err) {
        const e = toStampedeError(err, url, 'meta.version')
        if (!(e instanceof StampedeApiError && e.code === 'NOT_FOUND')) throw e
        warn(`the Stampede API at ${url} does not report its version (it predates meta.version, so it is older than ${identity.what} ${identity.version}); calls it does not know will fail`)
        return null
      }
      const answer = info as Partial<ApiVersionInfo> | null
      if (typeof answer?.version !== 'string' || typeof answer.apiCompat !== 'number') throw new StampedeError(`the Stampede API at ${url} answered meta.version with ${JSON.stringify(info)}, not { version, apiCompat }`)
      const api: ApiVersionInfo = { version: answer.version, apiCompat: answer.apiCompat }
      const verdict = compareWithApi(api, url, identity)
      if (verdict.kind === 'incompatible') throw new StampedeVersionError(verdict.message, api.version, api.apiCompat, identity.version, identity.apiCompat)
      if (verdict.kind === 'newer') warn(verdict.message)
      return api
    })()
    const attempt = versionAnswer
    attempt.catch((err: unknown) => {
      if (!(err instanceof StampedeVersionError) && versionAnswer === attempt) versionAnswer = undefined
    })
    return attempt
  }
  // Before a call: only an incompatible API stops it; when the check itself fails (API down, a
  // fault), the call goes ahead and reports its own error.
  const beforeCall = opts.versionCheck === false ? () => Promise.resolve() : () => checkVersion().catch((err: unknown) => (err instanceof StampedeVersionError ? Promise.reject(err) : null))
  const trpc = withTypedErrors(raw, url, beforeCall)
  const factory = webSocketFactory(opts.WebSocket)
  const open = async (socketUrl: string): Promise<WebSocketLike> => (await factory())(socketUrl, headers)
  const wsBase = url.replace(/^http/, 'ws')
  const consoleUrlOf = (runId: string) => (after: number, metricsAfter?: number) =>
    `${wsBase}/ws/runs/${encodeURIComponent(runId)}/console?after=${after}${metricsAfter === undefined ? '' : `&metrics=${metricsAfter}`}`

  const followConsole: StampedeHelpers['followConsole'] = (runId, followOpts) =>
    followConsoleWith(open, consoleUrlOf(runId), followOpts)
  const followMetrics: StampedeHelpers['followMetrics'] = (runId, followOpts = {}) => followMetricsWith(open, consoleUrlOf(runId), followOpts)

  const waitForRun: StampedeHelpers['waitForRun'] = async (runId, waitOpts = {}) => {
    const { signal, timeoutMs, pollIntervalMs = 1000 } = waitOpts
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs
    for (;;) {
      signal?.throwIfAborted()
      const run = await trpc.runs.byId.query({ id: runId }, signal ? { signal } : undefined)
      if (isTerminal(run.status)) return run
      if (Date.now() + pollIntervalMs > deadline) throw new StampedeWaitTimeoutError(`run ${runId} is still ${run.status} after ${timeoutMs} ms`, runId)
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs))
    }
  }

  const uploadFile: StampedeHelpers['uploadFile'] = async (content, uploadOpts) => {
    await beforeCall()
    return uploadFileTo({ url, headers, fetch: opts.fetch ?? globalThis.fetch }, content, uploadOpts)
  }

  /** runs.start's input for runScript's: files and archive uploaded first. */
  const startInputOf = async (input: RunScriptInput): Promise<RunStartInput> => {
    const { files, archive, ...rest } = input
    const filesApi = { files: trpc.files, uploadFile }
    if (archive !== undefined) {
      const sha256 = typeof archive === 'string' ? archive : (await uploadBlob(filesApi, { projectId: rest.projectId, content: archive })).sha256
      return { ...rest, archive: sha256 } as RunStartInput
    }
    if (files === undefined) return rest as RunStartInput
    const toUpload = files.filter((f): f is FileUpload => 'content' in f)
    const { refs } = await uploadFiles(filesApi, { projectId: rest.projectId, files: toUpload })
    const uploaded = new Map(refs.map((r, i) => [toUpload[i]!, r]))
    return { ...rest, files: files.map((f) => ('content' in f ? uploaded.get(f)! : { path: f.path, sha256: f.sha256 })) } as RunStartInput
  }

  const runScript: StampedeHelpers['runScript'] = async (input, runOpts = {}) => {
    let run = await trpc.runs.start.mutate(await startInputOf(input))
    const runId = run.id
    const cancel = () => void trpc.runs.cancel.mutate({ id: runId }).catch(() => {})
    runOpts.signal?.addEventListener('abort', cancel, { once: true })
    if (runOpts.signal?.aborted) cancel()
    try {
      for await (const event of followConsole(runId)) {
        if (event.type === 'status') run = { ...run, status: event.status, waitingForRunner: event.waitingForRunner }
        runOpts.onEvent?.(event, run)
      }
      // The console has ended; the result row may trail it by a moment.
      return await waitForRun(runId, { pollIntervalMs: 250 })
    } finally {
      runOpts.signal?.removeEventListener('abort', cancel)
    }
  }

  const helpers: StampedeHelpers = { url, followConsole, followMetrics, waitForRun, runScript, uploadFile, checkVersion }
  return new Proxy(trpc, {
    get: (t, key) => (typeof key === 'string' && Object.hasOwn(helpers, key) ? helpers[key as keyof StampedeHelpers] : Reflect.get(t, key)),
  }) as StampedeClient
}
