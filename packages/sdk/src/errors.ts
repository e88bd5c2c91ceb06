// Typed errors: every failure the SDK surfaces is a StampedeError subclass, so callers (and the
// CLI's exit codes) can tell "the API refused" from "the API is unreachable" from "the console
// broke" without parsing messages.
import { TRPCClientError } from '@trpc/client'

export class StampedeError extends Error {
  override name = 'StampedeError'
}

/** The API answered and refused the call (bad input, unknown id, server-side failure). */
export class StampedeApiError extends StampedeError {
  override name = 'StampedeApiError'
  constructor(
    message: string,
    /** tRPC error code, e.g. `BAD_REQUEST`, `NOT_FOUND`, `INTERNAL_SERVER_ERROR`. */
    readonly code: string,
    readonly httpStatus: number | undefined,
    /** The procedure, e.g. `runs.start`. */
    readonly path: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** No answer from the API: wrong URL, API down, network failure. */
export class StampedeConnectionError extends StampedeError {
  override name = 'StampedeConnectionError'
  constructor(
    message: string,
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** The console WebSocket could not be (re)established, or the server reported a console error. */
export class StampedeConsoleError extends StampedeError {
  override name = 'StampedeConsoleError'
}

/** `waitForRun` gave up before the run reached a final status (the run itself goes on). */
export class StampedeWaitTimeoutError extends StampedeError {
  override name = 'StampedeWaitTimeoutError'
  constructor(
    message: string,
    readonly runId: string,
  ) {
    super(message)
  }
}

/**
 * The API speaks another compatibility level than this SDK/CLI was built for (see version.ts):
 * the client refuses every call rather than send requests the API would misread. The message
 * names both versions and what to upgrade.
 */
export class StampedeVersionError extends StampedeError {
  override name = 'StampedeVersionError'
  constructor(
    message: string,
    readonly apiVersion: string,
    readonly apiCompat: number,
    readonly clientVersion: string,
    readonly clientApiCompat: number,
  ) {
    super(message)
  }
}

/** Maps whatever the tRPC client threw to a StampedeError; StampedeErrors pass through. */
export function toStampedeError(err: unknown, url: string, path?: string): StampedeError {
  if (err instanceof StampedeError) return err
  if (err instanceof TRPCClientError) {
    const data = (err as TRPCClientError<never>).data as { code?: unknown; httpStatus?: unknown; path?: unknown } | undefined
    if (data && typeof data.code === 'string') {
      return new StampedeApiError(err.message, data.code, typeof data.httpStatus === 'number' ? data.httpStatus : undefined, typeof data.path === 'string' ? data.path : path, { cause: err })
    }
    // No tRPC error payload: the request never got an answer from the API (or got a non-tRPC one).
    const cause = err.cause instanceof Error ? err.cause : undefined
    const detail = cause?.cause instanceof Error ? `${cause.message}: ${cause.cause.message}` : (cause?.message ?? err.message)
    return new StampedeConnectionError(`cannot reach the Stampede API at ${url}${path ? ` (${path})` : ''}: ${detail}`, url, { cause: err })
  }
  if (err instanceof Error) return new StampedeError(err.message, { cause: err })
  return new StampedeError(String(err))
}
