// The job form's values, the checks it makes before asking the API, and the inputs of
// jobs.create and jobs.update built from it. Numbers and dates are kept as the strings the
// fields hold; the end date is a wall-clock time in the job's own time zone. The API checks
// everything again and names the field it refuses ("cron: …"), which lands under that field.
import type { NotifyOn, OverlapPolicy } from '@stampede/shared'
import type { RouterInputs, RouterOutputs } from '../api/client.ts'
import { isoToWallTime, isTimeZone, wallTimeToIso } from './time.ts'

export type Job = RouterOutputs['jobs']['list'][number]
/** A created or updated job, with its webhook signing secret when one was made (shown once). */
export type SavedJob = RouterOutputs['jobs']['create']

export interface JobFormValues {
  name: string
  description: string
  /** Saved tests, run in this order at every firing. */
  testIds: string[]
  location: string
  cron: string
  timezone: string
  overlapPolicy: OverlapPolicy
  /** Only when creating: pause and resume change it afterwards. */
  enabled: boolean
  maxFirings: string
  /** `datetime-local` value in `timezone`; empty for none. */
  endAt: string
  webhookUrl: string
  notifyOn: NotifyOn[]
  rotateWebhookSecret: boolean
  /** Whether the firings' runs keep k6's per-sample stream: each test's own setting, or on or off for all of them. */
  rawSamples: RawSamplesChoice
}

/** The job's `rawSamples` as the form's radio buttons hold it: null is `tests`. */
export type RawSamplesChoice = 'tests' | 'on' | 'off'
const rawSamplesChoice = (value: boolean | null): RawSamplesChoice => (value === null ? 'tests' : value ? 'on' : 'off')
const rawSamplesValue = (choice: RawSamplesChoice): boolean | null => (choice === 'tests' ? null : choice === 'on')

export const JOB_FIELDS = ['name', 'description', 'testIds', 'location', 'cron', 'timezone', 'overlapPolicy', 'maxFirings', 'endAt', 'webhookUrl', 'notifyOn'] as const
export type JobField = (typeof JOB_FIELDS)[number]
export type FieldProblems = Partial<Record<JobField, string>>

export const DEFAULT_CRON = '0 2 * * *'

export function newJobForm(timezone: string): JobFormValues {
  return {
    name: '',
    description: '',
    testIds: [],
    location: '',
    cron: DEFAULT_CRON,
    timezone,
    overlapPolicy: 'skip',
    enabled: true,
    maxFirings: '',
    endAt: '',
    webhookUrl: '',
    notifyOn: ['failure', 'recovery'],
    rotateWebhookSecret: false,
    rawSamples: 'tests',
  }
}

export function jobForm(job: Job): JobFormValues {
  return {
    name: job.name,
    description: job.description,
    testIds: job.tests.map((t) => t.testId),
    location: job.location,
    cron: job.cron,
    timezone: job.timezone,
    overlapPolicy: job.overlapPolicy,
    enabled: job.enabled,
    maxFirings: job.maxFirings === null ? '' : String(job.maxFirings),
    endAt: isoToWallTime(job.endAt, job.timezone),
    webhookUrl: job.webhookUrl ?? '',
    notifyOn: [...job.notifyOn],
    rotateWebhookSecret: false,
    rawSamples: rawSamplesChoice(job.rawSamples),
  }
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol)
  } catch {
    return false
  }
}

/** What the form can tell before the API is asked; empty when nothing is wrong. */
export function formProblems(v: JobFormValues, now: number = Date.now()): FieldProblems {
  const problems: FieldProblems = {}
  if (!v.name.trim()) problems.name = 'Give the job a name.'
  if (v.testIds.length === 0) problems.testIds = 'Add at least one test.'
  if (!v.location) problems.location = 'Choose a location.'
  if (!v.cron.trim()) problems.cron = 'Enter a cron expression or pick a preset.'
  if (!isTimeZone(v.timezone)) problems.timezone = 'Choose a time zone from the list (e.g. UTC or Europe/Berlin).'
  if (v.maxFirings.trim() && !/^[1-9]\d*$/.test(v.maxFirings.trim())) problems.maxFirings = 'Enter a whole number of at least 1, or leave it empty.'
  if (v.endAt.trim() && !problems.timezone) {
    const end = wallTimeToIso(v.endAt, v.timezone)
    if (!end) problems.endAt = 'Enter a date and time, or leave it empty.'
    else if (Date.parse(end) <= now) problems.endAt = 'This is in the past: the job would never fire.'
  }
  if (v.webhookUrl.trim() && !isHttpUrl(v.webhookUrl.trim())) problems.webhookUrl = 'Enter an http(s) URL, or leave it empty.'
  if (v.webhookUrl.trim() && v.notifyOn.length === 0) problems.notifyOn = 'Choose when to call the webhook.'
  return problems
}

const maxFirings = (v: JobFormValues) => (v.maxFirings.trim() ? Number(v.maxFirings.trim()) : null)
const endAt = (v: JobFormValues) => (v.endAt.trim() ? (wallTimeToIso(v.endAt, v.timezone) ?? null) : null)
const webhookUrl = (v: JobFormValues) => v.webhookUrl.trim() || null

/** The fields that creating and updating a job send alike. */
const jobInput = (v: JobFormValues) => ({
  name: v.name.trim(),
  description: v.description,
  testIds: [...v.testIds],
  location: v.location,
  cron: v.cron.trim(),
  timezone: v.timezone,
  overlapPolicy: v.overlapPolicy,
})

export function createInput(projectId: string, v: JobFormValues): RouterInputs['jobs']['create'] {
  const max = maxFirings(v)
  const end = endAt(v)
  const url = webhookUrl(v)
  const rawSamples = rawSamplesValue(v.rawSamples)
  return {
    projectId,
    ...jobInput(v),
    enabled: v.enabled,
    ...(max !== null ? { maxFirings: max } : {}),
    ...(end !== null ? { endAt: end } : {}),
    ...(url !== null ? { webhookUrl: url, notifyOn: [...v.notifyOn] } : {}),
    ...(rawSamples !== null ? { rawSamples } : {}),
  }
}

/** Every field, so clearing one (max firings, end date, webhook) clears it on the job too. */
export function updateInput(id: string, v: JobFormValues): RouterInputs['jobs']['update'] {
  const url = webhookUrl(v)
  return {
    id,
    ...jobInput(v),
    maxFirings: maxFirings(v),
    endAt: endAt(v),
    webhookUrl: url,
    rawSamples: rawSamplesValue(v.rawSamples),
    ...(url !== null ? { notifyOn: [...v.notifyOn], rotateWebhookSecret: v.rotateWebhookSecret } : {}),
  }
}

const isField = (name: string): name is JobField => (JOB_FIELDS as readonly string[]).includes(name)

/**
 * Where the API's refusal belongs: its listed issues (`testIds.0`), or the field its message
 * starts with ("cron: Temporal refused …"); the rest is shown above the Save button.
 */
export function apiProblems(message: string, issues: readonly { path: string; message: string }[] = []): { fields: FieldProblems; general: string | null } {
  const fields: FieldProblems = {}
  const general: string[] = []
  const place = (path: string, text: string) => {
    const field = path.split('.')[0] ?? ''
    if (isField(field) && !fields[field]) fields[field] = text
    else general.push(path ? `${path}: ${text}` : text)
  }
  if (issues.length > 0) {
    for (const issue of issues) place(issue.path, issue.message)
  } else {
    const m = /^([A-Za-z]+(?:\.\d+)?): ([\s\S]*)$/.exec(message)
    if (m) place(m[1]!, m[2]!)
    else general.push(message)
  }
  return { fields, general: general.length > 0 ? general.join('; ') : null }
}

/** `items` with the element at `from` moved to `to` (clamped); a new array. */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const copy = [...items]
  if (from < 0 || from >= copy.length) return copy
  const [item] = copy.splice(from, 1)
  copy.splice(Math.max(0, Math.min(copy.length, to)), 0, item as T)
  return copy
}
