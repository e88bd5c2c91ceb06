import { describe, expect, it } from 'vitest'
import { elapsedMs, formatInZone, isoToWallTime, isTimeZone, relativeTime, timeZones, wallTimeToIso } from './time.ts'

const NOW = Date.parse('2026-01-15T12:00:00Z')
const at = (offsetSeconds: number) => new Date(NOW + offsetSeconds * 1000).toISOString()

describe('relativeTime', () => {
  it('says how far a time is from now in the largest whole unit', () => {
    expect(relativeTime(at(4.4), NOW)).toBe('in 4 s')
    expect(relativeTime(at(-59), NOW)).toBe('59 s ago')
    expect(relativeTime(at(180), NOW)).toBe('in 3 min')
    expect(relativeTime(at(-7300), NOW)).toBe('2 h ago')
    expect(relativeTime(at(86_400 + 5), NOW)).toBe('in 1 day')
    expect(relativeTime(at(3 * 86_400), NOW)).toBe('in 3 days')
    expect(relativeTime(at(0.3), NOW)).toBe('now')
  })

  it('shows a dash for no time', () => {
    expect(relativeTime(null, NOW)).toBe('—')
    expect(relativeTime('not a date', NOW)).toBe('—')
  })
})

describe('formatInZone', () => {
  it('shows the wall-clock time in the job’s zone with its abbreviation', () => {
    expect(formatInZone('2026-01-15T01:00:00Z', 'Europe/Berlin', 'en-US')).toBe('Thu, Jan 15, 2026, 02:00:00 GMT+1')
    expect(formatInZone('2026-01-15T01:00:00Z', 'UTC', 'en-US')).toBe('Thu, Jan 15, 2026, 01:00:00 UTC')
  })

  it('falls back to the browser’s zone for a zone it does not know', () => {
    expect(formatInZone('2026-01-15T01:00:00Z', 'Mars/Olympus', 'en-US')).toMatch(/2026/)
    expect(formatInZone(null, 'UTC')).toBe('—')
  })
})

describe('wall times in a zone', () => {
  it('reads a datetime-local value in the given zone', () => {
    expect(wallTimeToIso('2026-01-15T02:00', 'Europe/Berlin')).toBe('2026-01-15T01:00:00.000Z')
    expect(wallTimeToIso('2026-07-15T02:00', 'Europe/Berlin')).toBe('2026-07-15T00:00:00.000Z')
    expect(wallTimeToIso('2026-01-15T02:30:15', 'Asia/Kolkata')).toBe('2026-01-14T21:00:15.000Z')
    expect(wallTimeToIso('2026-01-15T02:00', 'UTC')).toBe('2026-01-15T02:00:00.000Z')
  })

  it('handles both sides of a clock change, and moves a skipped time forward', () => {
    expect(wallTimeToIso('2026-03-29T01:30', 'Europe/Berlin')).toBe('2026-03-29T00:30:00.000Z')
    expect(wallTimeToIso('2026-03-29T03:30', 'Europe/Berlin')).toBe('2026-03-29T01:30:00.000Z')
    expect(wallTimeToIso('2026-03-29T02:30', 'Europe/Berlin')).toBe('2026-03-29T01:30:00.000Z')
  })

  it('refuses empty or malformed values and unknown zones', () => {
    expect(wallTimeToIso('', 'UTC')).toBeUndefined()
    expect(wallTimeToIso('15/01/2026 02:00', 'UTC')).toBeUndefined()
    expect(wallTimeToIso('2026-01-15T02:00', 'Mars/Olympus')).toBeUndefined()
  })

  it('turns an instant back into the zone’s wall time', () => {
    expect(isoToWallTime('2026-07-15T00:00:00.000Z', 'Europe/Berlin')).toBe('2026-07-15T02:00')
    expect(isoToWallTime('2026-01-14T21:00:00Z', 'Asia/Kolkata')).toBe('2026-01-15T02:30')
    expect(isoToWallTime(null, 'UTC')).toBe('')
    for (const zone of ['UTC', 'America/New_York', 'Australia/Lord_Howe']) {
      expect(wallTimeToIso(isoToWallTime('2026-05-01T10:20:00Z', zone), zone)).toBe('2026-05-01T10:20:00.000Z')
    }
  })
})

describe('time zones', () => {
  it('lists UTC first, once', () => {
    expect(timeZones(() => ['Africa/Abidjan', 'UTC', 'Europe/Berlin'])).toEqual(['UTC', 'Africa/Abidjan', 'Europe/Berlin'])
    expect(timeZones(undefined)).toContain('Europe/Berlin')
    expect(timeZones().length).toBeGreaterThan(100)
  })

  it('knows a zone from a typo', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true)
    expect(isTimeZone('Europe/Berlinn')).toBe(false)
    expect(isTimeZone('')).toBe(false)
  })
})

describe('elapsedMs', () => {
  it('is the time between two instants, or null while unfinished', () => {
    expect(elapsedMs('2026-01-15T12:00:00Z', '2026-01-15T12:00:03.5Z')).toBe(3500)
    expect(elapsedMs('2026-01-15T12:00:00Z', null)).toBeNull()
  })
})
