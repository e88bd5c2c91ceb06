import { describe, expect, it } from 'vitest'
import { ArtifactLinks } from './links.ts'

describe('ArtifactLinks', () => {
  const links = new ArtifactLinks('k'.repeat(32), 60, () => 'http://api.test')
  const runId = '7f1d2a4e-0000-4000-8000-000000000001'

  it('signs a link that verifies until it expires', () => {
    const now = Date.UTC(2026, 0, 1)
    const { url, expiresAt } = links.create(runId, 'report', now)
    const u = new URL(url)
    expect(u.pathname).toBe(`/artifacts/${runId}/report`)
    expect(expiresAt).toBe(new Date(now + 60_000).toISOString())
    const [expires, sig] = [u.searchParams.get('expires') ?? undefined, u.searchParams.get('sig') ?? undefined]
    expect(links.verify(runId, 'report', expires, sig, now)).toBe('ok')
    expect(links.verify(runId, 'report', expires, sig, now + 61_000)).toBe('expired')
  })

  it('refuses a link for another artifact, another run, or a forged signature', () => {
    const u = new URL(links.create(runId, 'log').url)
    const expires = u.searchParams.get('expires') ?? undefined
    const sig = u.searchParams.get('sig') ?? undefined
    expect(links.verify(runId, 'summary', expires, sig)).toBe('invalid')
    expect(links.verify(runId.replace('1', '2'), 'log', expires, sig)).toBe('invalid')
    expect(links.verify(runId, 'log', expires, 'forged')).toBe('invalid')
    expect(links.verify(runId, 'log', undefined, sig)).toBe('invalid')
    const other = new ArtifactLinks('x'.repeat(32), 60, () => '')
    expect(other.verify(runId, 'log', expires, sig)).toBe('invalid')
  })
})
