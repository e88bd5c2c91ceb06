// Redeems a run's secrets grant at the API just before k6 starts (see @stampede/db/grants): the
// only way a location runner learns secret values. The API's answer says why a grant is refused;
// an expired one goes back to the workflow, which hands the run out again with a fresh grant.
import { ApplicationFailure } from '@temporalio/activity'
import { GRANT_EXPIRED, type SecretsGrant } from '@stampede/shared/temporal'
import { withRetry } from '../retry.ts'

export type RedeemSecrets = (runId: string, grant: SecretsGrant) => Promise<Record<string, string>>

const REDEEM_TIMEOUT_MS = 10_000

/** A refusal from the API (not retried): the grant is used, expired, not this run's, or its run ended. */
class Refused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export const redeemSecrets: RedeemSecrets = async (runId, grant) => {
  const origin = new URL(grant.url).origin
  let answer: { secrets?: Record<string, string>; error?: { code?: string; message?: string } }
  try {
    answer = await withRetry(
      `fetching the run's secrets from the API at ${origin}`,
      async () => {
        const res = await fetch(grant.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ runId, token: grant.token }),
          signal: AbortSignal.timeout(REDEEM_TIMEOUT_MS),
        })
        const body = (await res.json().catch(() => ({}))) as typeof answer
        // A refusal is final; a server error or no answer may pass (the grant is only taken on success).
        if (res.status >= 400 && res.status < 500) throw new Refused(body.error?.code ?? String(res.status), body.error?.message ?? `the API answered ${res.status}`)
        if (!res.ok) throw new Error(body.error?.message ?? `the API answered ${res.status}`)
        return body
      },
      { attempts: 5, baseMs: 500, retryIf: (err) => !(err instanceof Refused) },
    )
  } catch (err) {
    const refused = err instanceof Refused ? err : undefined
    if (refused?.code === 'expired') throw ApplicationFailure.nonRetryable(`the run's secrets grant expired before a runner took the run (${refused.message})`, GRANT_EXPIRED)
    if (refused) throw ApplicationFailure.nonRetryable(`the API refused the run's secrets: ${refused.message}`)
    throw ApplicationFailure.nonRetryable(`${err instanceof Error ? err.message : String(err)}; k6 was not started`)
  }
  const secrets = answer.secrets ?? {}
  const missing = grant.names.filter((name) => typeof secrets[name] !== 'string')
  if (missing.length > 0) throw ApplicationFailure.nonRetryable(`the API did not hand out the secret(s) ${missing.join(', ')}; were they removed from the test meanwhile? k6 was not started`)
  return secrets
}
