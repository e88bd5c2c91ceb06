import { describe, expect, it } from 'vitest'
import { clockChanges, closestFirings, firingWindows, formatSeconds, intervalProblem, utcOffsetMinutes } from './interval.ts'

const at = (iso: string) => new Date(iso)
/** `count` times from `start`, `stepS` seconds apart. */
const every = (start: string, stepS: number, count: number) => Array.from({ length: count }, (_, i) => new Date(Date.parse(start) + i * stepS * 1000))

describe('closestFirings', () => {
  it('finds the closest pair even when most firings are far apart (0,1 * * * *)', () => {
    const hourly = ['10:00', '10:01', '11:00', '11:01', '12:00', '12:01'].map((t) => at(`2027-03-01T${t}:00Z`))
    expect(closestFirings([hourly])).toEqual({ seconds: 60, first: hourly[0], second: hourly[1], uniform: false })
  })

  it('says when every gap is the same, and looks at each run of times on its own', () => {
    expect(closestFirings([every('2027-03-01T00:00:00Z', 3, 50)])).toMatchObject({ seconds: 3, uniform: true })
    // A clock change that stretches one gap does not change the pace of the coming firings.
    expect(closestFirings([every('2027-03-01T00:00:00Z', 3, 50), [at('2027-10-31T00:59:58Z'), at('2027-10-31T02:00:00Z')]])).toMatchObject({ seconds: 3, uniform: true })
    // Two windows an hour apart: the hour between them is not a gap between firings.
    const a = every('2027-03-01T00:00:00Z', 600, 3)
    const b = every('2027-11-07T05:59:00Z', 60, 2)
    expect(closestFirings([a, b])).toMatchObject({ seconds: 60, first: b[0], second: b[1], uniform: false })
  })

  it('is null when the schedule fires at most once', () => {
    expect(closestFirings([[at('2027-01-01T00:00:00Z')], []])).toBeNull()
    expect(closestFirings([])).toBeNull()
  })
})

describe('intervalProblem', () => {
  const closest = (times: Date[]) => closestFirings([times])

  it('names the field, the pace found and the minimum', () => {
    expect(intervalProblem('*/3 * * * * * *', 'UTC', closest(every('2027-01-01T00:00:00Z', 3, 10)), 60)).toBe(
      'cron: "*/3 * * * * * *" fires every 3 s; jobs may fire at most once every 60 s (JOB_MIN_INTERVAL_SECONDS=60). Choose a schedule whose firings are at least 60 s apart',
    )
    const hourlyPair = [at('2027-03-01T10:00:00Z'), at('2027-03-01T10:01:00Z'), at('2027-03-01T11:00:00Z')]
    expect(intervalProblem('0,1 * * * *', 'Europe/Berlin', closest(hourlyPair), 300)).toBe(
      'cron: "0,1 * * * *" has firings only 60 s apart (2027-03-01T10:00:00.000Z and 2027-03-01T10:01:00.000Z, time zone Europe/Berlin); jobs may fire at most once every 5 min (JOB_MIN_INTERVAL_SECONDS=300). Choose a schedule whose firings are at least 5 min apart',
    )
  })

  it('accepts firings exactly the minimum apart, and schedules that fire at most once', () => {
    expect(intervalProblem('*/1 * * * *', 'UTC', closest(every('2027-01-01T00:00:00Z', 60, 10)), 60)).toBeNull()
    expect(intervalProblem('*/1 * * * *', 'UTC', closest(every('2027-01-01T00:00:00Z', 60, 10)), 61)).toMatch(/fires every 60 s; jobs may fire at most once every 61 s/)
    expect(intervalProblem('0 0 1 1 * 2030', 'UTC', null, 60)).toBeNull()
  })
})

describe('formatSeconds', () => {
  it('uses a whole unit when it divides evenly', () => {
    expect([1, 59, 60, 90, 120, 3600, 5400, 7200].map(formatSeconds)).toEqual(['1 s', '59 s', '60 s', '90 s', '2 min', '1 h', '90 min', '2 h'])
  })
})

describe('clock changes', () => {
  it('finds a zone\'s daylight-saving changes to the second, and none in UTC', () => {
    // 2027: Europe/Berlin goes to summer time on 28 March at 01:00 UTC and back on 31 October at 01:00 UTC.
    expect(clockChanges('Europe/Berlin', at('2027-01-01T00:00:00Z'), at('2028-01-01T00:00:00Z'))).toEqual([at('2027-03-28T01:00:00Z'), at('2027-10-31T01:00:00Z')])
    expect(clockChanges('UTC', at('2027-01-01T00:00:00Z'), at('2028-01-01T00:00:00Z'))).toEqual([])
    expect(utcOffsetMinutes('Asia/Kolkata', at('2027-06-01T00:00:00Z'))).toBe(330)
    expect(utcOffsetMinutes('America/New_York', at('2027-01-15T00:00:00Z'))).toBe(-300)
  })

  it('asks about the coming firings and about each change of the coming year, within the minimum of it', () => {
    const now = at('2027-01-01T00:00:00Z')
    const windows = firingWindows('America/New_York', now, 60)
    expect(windows).toHaveLength(3)
    expect(windows[0]!.start).toEqual(now)
    // 2027: New York changes on 14 March 07:00 UTC and 7 November 06:00 UTC.
    expect(windows.slice(1)).toEqual([
      { start: at('2027-03-14T05:59:00Z'), end: at('2027-03-14T08:01:00Z') },
      { start: at('2027-11-07T04:59:00Z'), end: at('2027-11-07T07:01:00Z') },
    ])
    expect(firingWindows('UTC', now, 60)).toHaveLength(1)
  })
})
