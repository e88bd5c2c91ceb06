// Which API this SDK (and the CLI built on it) can talk to. The SDK was built against API_COMPAT
// (packages/shared/src/version.ts) and is SDK_VERSION; the API reports its own from the public
// `meta.version` procedure. compareWithApi decides what a difference means:
// - another apiCompat: incompatible, the client refuses (StampedeVersionError) and says to upgrade;
// - the API newer by a minor or major version: a warning (features added since are missing here);
// - anything else (older API, a newer patch, a pre-release or build suffix): nothing to say.
import { API_COMPAT, type ApiVersionInfo } from '@stampede/shared'

/** The SDK's own version; a unit test keeps it equal to packages/sdk/package.json's `version`. */
export const SDK_VERSION = '0.1.0'
export { API_COMPAT }

export interface Semver {
  major: number
  minor: number
  patch: number
}

/**
 * `1.2.3`, `v1.2.3`, `1.2.3-rc.1+build` → { 1, 2, 3 }; null when it is not a version. Written here
 * rather than taken from `semver`: only major and minor are compared, and the published SDK keeps
 * its runtime dependencies few.
 */
export function parseVersion(version: string): Semver | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version.trim())
  if (!m) return null
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) }
}

export type VersionVerdict =
  | { kind: 'ok' }
  | { kind: 'newer'; message: string }
  | { kind: 'incompatible'; message: string }

/** Who is asking, for the messages: the SDK by default; the CLI names itself. */
export interface ClientIdentity {
  version: string
  apiCompat: number
  /** e.g. `@stampede/sdk` or `the stampede CLI`. */
  what: string
  /** How to upgrade, e.g. `npm install @stampede/sdk@latest`. */
  upgrade: string
}

export const SDK_IDENTITY: ClientIdentity = { version: SDK_VERSION, apiCompat: API_COMPAT, what: '@stampede/sdk', upgrade: 'npm install @stampede/sdk@latest' }

/** What the API's version means for this client. */
export function compareWithApi(api: ApiVersionInfo, url: string, client: ClientIdentity = SDK_IDENTITY): VersionVerdict {
  if (api.apiCompat !== client.apiCompat) {
    const apiNewer = api.apiCompat > client.apiCompat
    return {
      kind: 'incompatible',
      message:
        `${client.what} ${client.version} cannot work with the Stampede API at ${url}: the API is version ${api.version} ` +
        `(API compatibility level ${api.apiCompat}) and this client was built for level ${client.apiCompat}. ` +
        (apiNewer
          ? `Upgrade ${client.what} to a version made for API ${api.version} (${client.upgrade}).`
          : `The API is older than this client: install a ${client.what} version made for API ${api.version}, or upgrade the API.`),
    }
  }
  const a = parseVersion(api.version)
  const c = parseVersion(client.version)
  if (!a || !c) return { kind: 'ok' }
  if (a.major > c.major || (a.major === c.major && a.minor > c.minor)) {
    return {
      kind: 'newer',
      message:
        `the Stampede API at ${url} is version ${api.version}, newer than ${client.what} ${client.version}: ` +
        `what the API added since ${c.major}.${c.minor} is not available here; upgrade ${client.what} (${client.upgrade}).`,
    }
  }
  return { kind: 'ok' }
}
