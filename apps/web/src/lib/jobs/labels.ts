// The words the jobs pages use for the API's enums: overlap policies and webhook triggers with a
// one-line explanation each, and a schedule's state.
import type { NotifyOn, OverlapPolicy } from '@stampede/shared'
import type { RawSamplesChoice } from './job-form.ts'

export const OVERLAP_CHOICES: Record<OverlapPolicy, { label: string; hint: string }> = {
  skip: { label: 'Skip', hint: 'A firing that comes while the previous one still runs is skipped.' },
  buffer_one: { label: 'Queue one', hint: 'It runs right after the previous one ends; more firings meanwhile are dropped.' },
  cancel_other: { label: 'Cancel the running one', hint: 'The running firing and its run are cancelled, and the new one starts.' },
}

export const NOTIFY_CHOICES: Record<NotifyOn, { label: string; hint: string }> = {
  failure: { label: 'Failures', hint: 'a firing that did not pass' },
  recovery: { label: 'Recoveries', hint: 'the first pass after one that did not' },
  always: { label: 'Every firing', hint: 'whatever its outcome' },
}

export const RAW_SAMPLES_CHOICES: Record<RawSamplesChoice, { label: string; hint: string }> = {
  tests: { label: "Each test's setting", hint: 'a run keeps them when its test does (Raw samples, saved with the test).' },
  on: { label: 'Keep for every run', hint: 'every run of the job keeps them, whatever its test says.' },
  off: { label: 'Keep for no run', hint: 'no run of the job keeps them, whatever its test says.' },
}

export type ScheduleState = 'active' | 'paused' | 'missing' | 'unknown'

export const SCHEDULE_STATES: Record<ScheduleState, string> = {
  active: 'Active',
  paused: 'Paused',
  missing: 'Schedule missing',
  unknown: 'Temporal unreachable',
}
