// Retries for the steps around a load test (uploads, database writes). k6 itself is never
// retried: a retry would hit the target twice.
export async function withRetry<T>(what: string, fn: () => Promise<T>, opts: { attempts?: number; baseMs?: number; retryIf?: (err: unknown) => boolean } = {}): Promise<T> {
  const attempts = opts.attempts ?? 4
  const baseMs = opts.baseMs ?? 300
  let lastError: unknown
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await fn()
    } catch (err) {
      lastError = err
      if (opts.retryIf && !opts.retryIf(err)) throw err
      if (attempt < attempts) await new Promise((r) => setTimeout(r, baseMs * 2 ** (attempt - 1)))
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError)
  throw new Error(`${what} failed after ${attempts} attempts: ${reason}`, { cause: lastError })
}
