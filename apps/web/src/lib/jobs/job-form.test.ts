import { describe, expect, it } from 'vitest'
import { apiProblems, createInput, formProblems, jobForm, moveItem, newJobForm, updateInput, type Job, type JobFormValues } from './job-form.ts'

const PROJECT = '00000000-0000-4000-8000-000000000001'
const T1 = '11111111-1111-4111-8111-111111111111'
const T2 = '22222222-2222-4222-8222-222222222222'
const NOW = Date.parse('2026-01-15T12:00:00Z')

const filled = (over: Partial<JobFormValues> = {}): JobFormValues => ({ ...newJobForm('Europe/Berlin'), name: ' nightly ', testIds: [T1, T2], location: 'eu-central', ...over })

describe('formProblems', () => {
  it('finds nothing wrong with a complete form', () => {
    expect(formProblems(filled(), NOW)).toEqual({})
  })

  it('asks for a name, a test, a location and a cron before asking the API', () => {
    expect(Object.keys(formProblems({ ...newJobForm('UTC'), cron: ' ' }, NOW)).sort()).toEqual(['cron', 'location', 'name', 'testIds'])
  })

  it('checks the optional fields only when they are filled', () => {
    const problems = formProblems(filled({ maxFirings: '2.5', endAt: '2026-01-15T12:30', webhookUrl: 'ftp://x', timezone: 'Europe/Berlin' }), NOW)
    expect(problems.maxFirings).toMatch(/whole number/)
    // 12:30 in Berlin is 11:30 UTC: already past.
    expect(problems.endAt).toMatch(/in the past/)
    expect(problems.webhookUrl).toMatch(/http\(s\) URL/)
    expect(formProblems(filled({ maxFirings: ' 3 ', endAt: '2026-01-15T14:00' }), NOW)).toEqual({})
    expect(formProblems(filled({ webhookUrl: 'https://hooks.example.com/x', notifyOn: [] }), NOW).notifyOn).toMatch(/when to call/)
    expect(formProblems(filled({ timezone: 'Mars/Olympus' }), NOW).timezone).toMatch(/time zone/)
  })
})

describe('inputs for the API', () => {
  it('creates with trimmed values and leaves out empty optional fields', () => {
    expect(createInput(PROJECT, filled())).toEqual({
      projectId: PROJECT,
      name: 'nightly',
      description: '',
      testIds: [T1, T2],
      location: 'eu-central',
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
      overlapPolicy: 'skip',
      enabled: true,
    })
  })

  it('sends the end date as the instant it means in the job’s zone, and the webhook with its triggers', () => {
    const input = createInput(PROJECT, filled({ maxFirings: '10', endAt: '2026-07-01T00:00', webhookUrl: ' https://hooks.example.com/x ', notifyOn: ['always'] }))
    expect(input).toMatchObject({ maxFirings: 10, endAt: '2026-06-30T22:00:00.000Z', webhookUrl: 'https://hooks.example.com/x', notifyOn: ['always'] })
  })

  it('updates every field, clearing the optional ones that were emptied', () => {
    expect(updateInput('j1', filled({ cron: '*/5 * * * * * *' }))).toEqual({
      id: 'j1',
      name: 'nightly',
      description: '',
      testIds: [T1, T2],
      location: 'eu-central',
      cron: '*/5 * * * * * *',
      timezone: 'Europe/Berlin',
      overlapPolicy: 'skip',
      maxFirings: null,
      endAt: null,
      webhookUrl: null,
      rawSamples: null,
    })
    expect(updateInput('j1', filled({ webhookUrl: 'https://h.example/x', rotateWebhookSecret: true }))).toMatchObject({ webhookUrl: 'https://h.example/x', notifyOn: ['failure', 'recovery'], rotateWebhookSecret: true })
  })

  it('sends the raw-samples choice: left out on create and null on update for each test\'s setting, else true or false', () => {
    expect(createInput(PROJECT, filled())).not.toHaveProperty('rawSamples')
    expect(createInput(PROJECT, filled({ rawSamples: 'on' }))).toMatchObject({ rawSamples: true })
    expect(createInput(PROJECT, filled({ rawSamples: 'off' }))).toMatchObject({ rawSamples: false })
    expect(updateInput('j1', filled({ rawSamples: 'tests' }))).toMatchObject({ rawSamples: null })
    expect(updateInput('j1', filled({ rawSamples: 'on' }))).toMatchObject({ rawSamples: true })
    expect(updateInput('j1', filled({ rawSamples: 'off' }))).toMatchObject({ rawSamples: false })
    const job = { name: 'n', description: '', tests: [{ position: 0, testId: T1, name: 'a' }], location: 'us-east', cron: '0 2 * * *', timezone: 'UTC', overlapPolicy: 'skip', enabled: true, maxFirings: null, endAt: null, webhookUrl: null, notifyOn: ['failure'] }
    for (const rawSamples of [null, true, false]) expect(updateInput('j1', jobForm({ ...job, rawSamples } as unknown as Job)).rawSamples).toBe(rawSamples)
  })

  it('fills the form from a job and back without change', () => {
    const job = {
      id: 'j1',
      name: 'nightly',
      description: 'the shop',
      tests: [
        { position: 0, testId: T2, name: 'b' },
        { position: 1, testId: T1, name: 'a' },
      ],
      location: 'us-east',
      cron: '0 2 * * *',
      timezone: 'Asia/Kolkata',
      overlapPolicy: 'buffer_one',
      enabled: false,
      maxFirings: 4,
      endAt: '2027-01-14T21:00:00.000Z',
      webhookUrl: 'https://h.example/x',
      notifyOn: ['failure'],
    } as unknown as Job
    const values = jobForm(job)
    expect(values).toMatchObject({ testIds: [T2, T1], maxFirings: '4', endAt: '2027-01-15T02:30', enabled: false })
    expect(updateInput('j1', values)).toMatchObject({ endAt: '2027-01-14T21:00:00.000Z', maxFirings: 4, overlapPolicy: 'buffer_one', notifyOn: ['failure'] })
  })
})

describe('apiProblems', () => {
  it('puts a refusal under the field its message names', () => {
    expect(apiProblems('cron: Temporal refused the expression (bad); use 5 fields')).toEqual({ fields: { cron: 'Temporal refused the expression (bad); use 5 fields' }, general: null })
    expect(apiProblems('testIds.1: test x does not exist in this project').fields).toEqual({ testIds: 'test x does not exist in this project' })
  })

  it('uses the listed issues when the API gives them', () => {
    const result = apiProblems('name: is required; timezone: must be an IANA time zone', [
      { path: 'name', message: 'is required' },
      { path: 'timezone', message: 'must be an IANA time zone' },
      { path: 'projectId', message: 'nope' },
    ])
    expect(result).toEqual({ fields: { name: 'is required', timezone: 'must be an IANA time zone' }, general: 'projectId: nope' })
  })

  it('keeps anything else for above the Save button', () => {
    expect(apiProblems('could not create the job’s Temporal schedule: unavailable')).toEqual({ fields: {}, general: 'could not create the job’s Temporal schedule: unavailable' })
  })
})

describe('moveItem', () => {
  it('moves one element and clamps at the ends', () => {
    expect(moveItem(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c'])
    expect(moveItem(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b'])
    expect(moveItem(['a', 'b', 'c'], 2, 5)).toEqual(['a', 'b', 'c'])
    expect(moveItem(['a', 'b', 'c'], 7, 0)).toEqual(['a', 'b', 'c'])
  })
})
