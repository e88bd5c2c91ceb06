// Short-lived artifact links: the API streams artifacts from S3 itself (so S3 may stay private)
// under an HMAC-signed, expiring URL. The HTML report is served with a CSP sandbox, which gives
// it an opaque origin: its scripts cannot read the application's cookies or call the API.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { ArtifactName } from '@stampede/shared'

export class ArtifactLinks {
  constructor(
    private readonly key: string,
    private readonly ttlSeconds: number,
    private readonly baseUrl: () => string,
  ) {}

  private sign(runId: string, name: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${runId}/${name}/${expires}`).digest('base64url')
  }

  create(runId: string, name: ArtifactName, now = Date.now()): { url: string; expiresAt: string } {
    const expires = Math.floor(now / 1000) + this.ttlSeconds
    const sig = this.sign(runId, name, expires)
    return { url: `${this.baseUrl()}/artifacts/${runId}/${name}?expires=${expires}&sig=${sig}`, expiresAt: new Date(expires * 1000).toISOString() }
  }

  verify(runId: string, name: string, expires: string | undefined, sig: string | undefined, now = Date.now()): 'ok' | 'expired' | 'invalid' {
    if (!expires || !sig || !/^\d+$/.test(expires)) return 'invalid'
    const expected = Buffer.from(this.sign(runId, name, Number(expires)))
    const given = Buffer.from(sig)
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid'
    return Number(expires) * 1000 < now ? 'expired' : 'ok'
  }
}

export const REPORT_CSP = [
  'sandbox allow-scripts allow-popups',
  "default-src 'none'",
  "script-src 'unsafe-inline' 'unsafe-eval'",
  "style-src 'unsafe-inline'",
  'img-src data: blob:',
  'font-src data:',
  "connect-src 'none'",
  "frame-ancestors *",
].join('; ')
