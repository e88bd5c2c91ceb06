import { describe, expect, it } from 'vitest'
import { CRON_PRESETS, describeCron, presetOf } from './cron-words.ts'

// The wording is cronstrue's; these cases pin that describeCron reads Temporal's syntax (5, 6 or
// 7 fields, descriptors) into it and returns null for what is not valid.
describe('describeCron', () => {
  it('says every preset in words', () => {
    expect(CRON_PRESETS.map((p) => describeCron(p.cron))).toEqual([
      'Every 5 minutes',
      'Every hour',
      'At 02:00',
      'At 09:00, Monday through Friday',
      'At 06:00, only on Monday',
    ])
  })

  it('describes seconds-level schedules of the 7-field form', () => {
    expect(describeCron('*/5 * * * * * *')).toBe('Every 5 seconds')
    expect(describeCron('*/10 * * * * * *')).toBe('Every 10 seconds')
    expect(describeCron('* * * * * * *')).toBe('Every second')
    expect(describeCron('0 * * * * * *')).toBe('Every minute')
    expect(describeCron('30 0 2 * * * *')).toBe('At 02:00:30')
  })

  it('describes times of day, lists and ranges of hours', () => {
    expect(describeCron('30 2 * * *')).toBe('At 02:30')
    expect(describeCron('0 9,17 * * *')).toBe('At 09:00 and 17:00')
    expect(describeCron('0 9-17 * * *')).toBe('Every hour, between 09:00 and 17:00')
    expect(describeCron('*/15 9-17 * * 1-5')).toBe('Every 15 minutes, between 09:00 and 17:59, Monday through Friday')
    expect(describeCron('15 */2 * * *')).toBe('At 15 minutes past the hour, every 2 hours')
    expect(describeCron('0 */6 * * *')).toBe('On the hour, every 6 hours')
    expect(describeCron('45 * * * *')).toBe('At 45 minutes past the hour')
  })

  it('describes days of the week by number or name', () => {
    expect(describeCron('0 6 * * MON')).toBe('At 06:00, only on Monday')
    expect(describeCron('0 6 * * fri,mon')).toBe('At 06:00, only on Friday and Monday')
    expect(describeCron('0 10 * * 0,6')).toBe('At 10:00, only on Sunday and Saturday')
    expect(describeCron('0 10 * * 7')).toBe('At 10:00, only on Sunday')
    expect(describeCron('0 0 * * 0-6')).toBe('At 00:00, Sunday through Saturday')
    expect(describeCron('*/5 * * * 6,0')).toBe('Every 5 minutes, only on Sunday and Saturday')
    expect(describeCron('0 * * * 2,4')).toBe('Every hour, only on Tuesday and Thursday')
  })

  it('describes days of the month, months and years', () => {
    expect(describeCron('0 0 1 * *')).toBe('At 00:00, on day 1 of the month')
    expect(describeCron('0 3 1,15 * *')).toBe('At 03:00, on day 1 and 15 of the month')
    expect(describeCron('0 3 2,3,11,22 JAN,jul *')).toBe('At 03:00, on day 2, 3, 11, and 22 of the month, only in January and July')
    expect(describeCron('0 2 * 12 *')).toBe('At 02:00, only in December')
    expect(describeCron('0 2 * * * 2027')).toBe('At 02:00, only in 2027')
    expect(describeCron('*/10 * * * * * 2027')).toBe('Every 10 seconds, only in 2027')
  })

  it("reads Temporal's 6-field form as minute…day-of-week plus year, not seconds first", () => {
    expect(describeCron('0 2 * * * *')).toBe('At 02:00')
    expect(describeCron('0 0 1 1 * 2027-2029')).toBe('At 00:00, on day 1 of the month, only in January, 2027 through 2029')
  })

  it('expands the descriptors (in any case) and ignores extra spacing', () => {
    expect(describeCron('@daily')).toBe('At 00:00')
    expect(describeCron('@hourly')).toBe('Every hour')
    expect(describeCron('@weekly')).toBe('At 00:00, only on Sunday')
    expect(describeCron('@Daily')).toBe('At 00:00')
    expect(describeCron('  0   2 *  * * ')).toBe('At 02:00')
    expect(describeCron('0\t2 * * *')).toBe('At 02:00')
  })

  it('words the steps, ranges and mixed fields the hand-written describer left out', () => {
    // Every 7th minute from :00 (so :56, then :00); the next firings below the words show that.
    expect(describeCron('*/7 * * * *')).toBe('Every 7 minutes')
    expect(describeCron('*/5 */2 * * *')).toBe('Every 5 minutes, every 2 hours')
    expect(describeCron('0 0 L * *')).toBe('At 00:00, on the last day of the month')
    // Day of month OR day of week.
    expect(describeCron('0 0 1 * 1')).toBe('At 00:00, on day 1 of the month, and on Monday')
    expect(describeCron('0 0 */2 * *')).toBe('At 00:00, every 2 days in a month')
    expect(describeCron('30 * * * * * *')).toBe('At 30 seconds past the minute')
    expect(describeCron('0 0-23/3,5 * * *')).toBe('On the hour, every 3 hours, between 00:00 and 23:00 and at 05:00')
    expect(describeCron('5/15 * * * *')).toBe('Every 15 minutes, starting at 5 minutes past the hour')
    expect(describeCron('0 9-17/2 * * 1-5')).toBe('On the hour, every 2 hours, between 09:00 and 17:00, Monday through Friday')
  })

  it('returns null for what is not valid', () => {
    for (const cron of [
      '61 * * * *',
      '0 24 * * *',
      '0 2 * * 8',
      '0 0 32 * *',
      '0 0 * 13 *',
      '*/0 * * * *',
      '0 0 * * FOO',
      '1 2 3',
      '0 0 1 1 * 2027 5 9',
      '',
      '   ',
      'every day',
      '@every 5m',
    ]) {
      expect(describeCron(cron), cron).toBeNull()
    }
  })
})

describe('presetOf', () => {
  it('recognises a preset regardless of spacing, else custom', () => {
    expect(presetOf('0 2 * * *')).toBe('daily')
    expect(presetOf(' 0  9 * * 1-5 ')).toBe('weekdays')
    expect(presetOf('*/5 * * * * * *')).toBe('custom')
  })
})
