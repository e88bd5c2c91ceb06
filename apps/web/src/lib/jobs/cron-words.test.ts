import { describe, expect, it } from 'vitest'
import { CRON_PRESETS, describeCron, presetOf } from './cron-words.ts'

describe('describeCron', () => {
  it('says every preset in words', () => {
    expect(CRON_PRESETS.map((p) => describeCron(p.cron))).toEqual([
      'Every 5 minutes',
      'Every hour',
      'Every day at 02:00',
      'Every weekday at 09:00',
      'Every Monday at 06:00',
    ])
  })

  it('describes seconds-level schedules of the 7-field form', () => {
    expect(describeCron('*/5 * * * * * *')).toBe('Every 5 seconds')
    expect(describeCron('*/10 * * * * * *')).toBe('Every 10 seconds')
    expect(describeCron('* * * * * * *')).toBe('Every second')
    expect(describeCron('0 * * * * * *')).toBe('Every minute')
    expect(describeCron('30 0 2 * * * *')).toBe('Every day at 02:00:30')
  })

  it('describes times of day, lists and ranges of hours', () => {
    expect(describeCron('30 2 * * *')).toBe('Every day at 02:30')
    expect(describeCron('0 9,17 * * *')).toBe('Every day at 09:00 and 17:00')
    expect(describeCron('0 9-17 * * *')).toBe('Every hour from 09:00 to 17:00')
    expect(describeCron('*/15 9-17 * * 1-5')).toBe('Every 15 minutes between 09:00 and 17:45 on weekdays')
    expect(describeCron('15 */2 * * *')).toBe('Every 2 hours at 15 minutes past')
    expect(describeCron('0 */6 * * *')).toBe('Every 6 hours')
    expect(describeCron('45 * * * *')).toBe('Every hour at 45 minutes past')
  })

  it('describes days of the week by number or name, Monday first', () => {
    expect(describeCron('0 6 * * MON')).toBe('Every Monday at 06:00')
    expect(describeCron('0 6 * * fri,mon')).toBe('Every Monday and Friday at 06:00')
    expect(describeCron('0 10 * * 0,6')).toBe('Every Saturday and Sunday at 10:00')
    expect(describeCron('0 10 * * 7')).toBe('Every Sunday at 10:00')
    expect(describeCron('0 0 * * 0-6')).toBe('Every day at 00:00')
    expect(describeCron('*/5 * * * 6,0')).toBe('Every 5 minutes on weekends')
    expect(describeCron('0 * * * 2,4')).toBe('Every hour on Tuesdays and Thursdays')
  })

  it('describes days of the month, months and years', () => {
    expect(describeCron('0 0 1 * *')).toBe('On the 1st of every month at 00:00')
    expect(describeCron('0 3 1,15 * *')).toBe('On the 1st and 15th of every month at 03:00')
    expect(describeCron('0 3 2,3,11,22 JAN,jul *')).toBe('On the 2nd, 3rd, 11th and 22nd of January and July at 03:00')
    expect(describeCron('0 2 * 12 *')).toBe('Every day in December at 02:00')
    expect(describeCron('0 2 * * * 2027')).toBe('Every day at 02:00 in 2027')
    expect(describeCron('*/10 * * * * * 2027')).toBe('Every 10 seconds in 2027')
  })

  it('expands the descriptors and ignores extra spacing', () => {
    expect(describeCron('@daily')).toBe('Every day at 00:00')
    expect(describeCron('@hourly')).toBe('Every hour')
    expect(describeCron('@weekly')).toBe('Every Sunday at 00:00')
    expect(describeCron('  0   2 *  * * ')).toBe('Every day at 02:00')
  })

  it('returns null for what it cannot say faithfully, or what is not valid', () => {
    for (const cron of [
      '*/7 * * * *', // fires at :56 and then :00 — not "every 7 minutes"
      '*/5 */2 * * *',
      '0 0 L * *',
      '0 0 1 * 1', // day of month OR day of week
      '0 0 */2 * *',
      '30 * * * * * *',
      '0 0-23/3,5 * * *',
      '61 * * * *',
      '0 24 * * *',
      '0 2 * * 8',
      '1 2 3',
      '',
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
