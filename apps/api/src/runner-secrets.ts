// Where a location runner fetches one run's secrets: it redeems the single-use grant the
// orchestration minted for that run (see @stampede/db/grants). Runners hold no SECRETS_KEY and
// no database access; this is the one place their k6 environments' secrets come from. Nothing of
// the request or the answer is logged.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { Db } from '@stampede/db'
import { redeemSecretsGrant, type RedemptionRefusal } from '@stampede/db/grants'
import { SECRETS_GRANT_PATH } from '@stampede/shared/temporal'

const bodySchema = z.object({
  runId: z.uuid(),
  token: z.string().min(1).max(200),
})

const STATUS: Record<RedemptionRefusal, number> = { refused: 403, used: 410, expired: 410, ended: 410, unavailable: 503 }

export function registerRunnerSecrets(app: FastifyInstance, deps: { db: Db; secretsKey: string | undefined }): void {
  app.post(SECRETS_GRANT_PATH, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    const body = bodySchema.safeParse(req.body)
    if (!body.success) {
      return reply.code(400).send({ error: { code: 'bad_request', message: 'expected a JSON body { runId: <the run\'s id>, token: <its secrets grant> }' } })
    }
    const answer = await redeemSecretsGrant(deps.db, body.data, deps.secretsKey)
    if (answer.ok) return reply.send({ secrets: answer.secrets })
    return reply.code(STATUS[answer.why]).send({ error: { code: answer.why, message: answer.message } })
  })
}
