// Input schemas of jobs.*: recurring load jobs on Temporal Schedules.
import { z } from 'zod'
import { projectIdSchema } from './access.ts'
import { cursorSchema, idSchema, INT4_MAX, wholeNumber } from './input.ts'
import { locationIdSchema } from './locations.ts'
import { rawSamplesSchema } from './api.ts'

export const jobIdSchema = idSchema()

export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'cancel_other'] as const
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number]
export const NOTIFY_ON = ['failure', 'recovery', 'always'] as const
export type NotifyOn = (typeof NOTIFY_ON)[number]

export const cronSchema = z
  .string()
  .trim()
  .min(1, 'is required: a cron expression such as "0 2 * * *" (every day at 02:00)')
  .max(200, 'must be at most 200 characters')
  .refine((c) => !/^(CRON_)?TZ=/i.test(c), { message: 'must not carry TZ=; set timezone instead' })
export const timezoneSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz })
        return true
      } catch {
        return false
      }
    },
    { message: 'must be an IANA time zone such as UTC, Europe/Berlin or America/New_York' },
  )

const jobFields = {
  name: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters'),
  description: z.string().max(5000, 'must be at most 5000 characters').optional(),
  /** Saved tests of the project, run in this order at every firing. */
  testIds: z.array(idSchema()).min(1, 'must name at least one test').max(20, 'must name at most 20 tests'),
  location: locationIdSchema,
  cron: cronSchema,
  timezone: timezoneSchema.default('UTC'),
  /** What happens when a firing comes while the previous one still runs. */
  overlapPolicy: z.enum(OVERLAP_POLICIES, { error: `must be one of ${OVERLAP_POLICIES.join(', ')}` }).default('skip'),
  enabled: z.boolean().default(true),
  /** Stop after this many firings. */
  maxFirings: wholeNumber(1, INT4_MAX).nullable().optional(),
  /** No firings after this time (ISO 8601). */
  endAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2027-01-31T00:00:00Z' }).nullable().optional(),
  /** A URL that receives a signed JSON POST about firings (null: none). */
  webhookUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048, 'must be at most 2048 characters').nullable().optional(),
  /** When the webhook is called: failures, recoveries (first pass after a failure), or always. */
  notifyOn: z.array(z.enum(NOTIFY_ON, { error: `must be among ${NOTIFY_ON.join(', ')}` })).min(1).optional(),
  /**
   * Whether the runs of every firing keep k6's per-sample stream (the `samples` artifact): true
   * or false for all of the job's runs; null (the default) follows each test's own setting.
   */
  rawSamples: rawSamplesSchema.nullable().optional(),
}

export const jobCreateInput = z.object({ projectId: projectIdSchema.optional(), ...jobFields })
export const jobUpdateInput = z.object({
  id: jobIdSchema,
  name: jobFields.name.optional(),
  description: jobFields.description,
  testIds: jobFields.testIds.optional(),
  location: locationIdSchema.optional(),
  cron: cronSchema.optional(),
  timezone: timezoneSchema.optional(),
  overlapPolicy: z.enum(OVERLAP_POLICIES, { error: `must be one of ${OVERLAP_POLICIES.join(', ')}` }).optional(),
  maxFirings: jobFields.maxFirings,
  endAt: jobFields.endAt,
  webhookUrl: jobFields.webhookUrl,
  notifyOn: jobFields.notifyOn,
  /** true or false for all of the job's later runs, null for each test's own setting; kept when not given. */
  rawSamples: jobFields.rawSamples,
  /** A new webhook signing secret, returned once. */
  rotateWebhookSecret: z.boolean().optional(),
})
export const jobRef = z.object({ id: jobIdSchema })
export const jobListInput = z.object({ projectId: projectIdSchema.optional() }).default({})
export const jobPreviewInput = z.object({ cron: cronSchema, timezone: timezoneSchema.default('UTC'), count: wholeNumber(1, 10).default(5) })
export const jobBackfillInput = z
  .object({
    id: jobIdSchema,
    from: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
    to: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
  })
  .refine((v) => new Date(v.from) < new Date(v.to), { message: 'must be before to', path: ['from'] })
  .refine((v) => new Date(v.to) <= new Date(Date.now() + 60_000), { message: 'must not be in the future: backfill fills past firings', path: ['to'] })
export const jobHistoryInput = z.object({ id: jobIdSchema, limit: wholeNumber(1, 100).default(20), cursor: cursorSchema.optional() })

/** What a manual trigger does, given the job's overlap policy and how many firings run now. */
export type TriggerOutcome = 'started' | 'queued' | 'cancelling_running' | 'skipped'

export function triggerOutcome(policy: OverlapPolicy, running: number): TriggerOutcome {
  if (running === 0) return 'started'
  return policy === 'skip' ? 'skipped' : policy === 'buffer_one' ? 'queued' : 'cancelling_running'
}

/** The sentence clients show for a trigger's outcome. */
export const TRIGGER_OUTCOME_MESSAGES: Record<TriggerOutcome, string> = {
  started: 'started: the firing runs now',
  queued: 'queued: a firing is running and this one starts when it ends (overlap policy buffer_one holds one waiting firing; a trigger while one waits is dropped)',
  cancelling_running: 'started: the running firing and its runs are cancelled first (overlap policy cancel_other)',
  skipped: 'skipped: a firing is running and the overlap policy is skip; trigger again once it has ended, or change the job\'s overlap policy',
}
