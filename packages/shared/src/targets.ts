// Which addresses a k6 run may reach. By default k6 is refused private, loopback, link-local and
// cloud-metadata targets through its own `blacklistIPs`/`blockHostnames`, passed as CLI flags so
// a script's `options` cannot lift them; a project's allowlist (CIDRs, IPs, exact hostnames) and
// the embedded single-machine mode carve exact holes out of those ranges. Two kinds of range stay
// blocked whatever opens them: cloud-metadata addresses, and the loopback range reserved for the
// platform's own services (PLATFORM_LOOPBACK_CIDR).
//
// The IP ranges are the real barrier: k6 checks them on the address it is about to dial, after
// `hosts` overrides and DNS. The hostname list only adds a clearer error for well-known metadata
// names; k6 does not match it against an FQDN's trailing-dot form or a gRPC `dns:///` target.
import { addressBits, contains, embedIPv4, familyOf, formatCidr, ipFamily, isNetwork, networkOf, overlaps, parseCidr, parseIP, subtractCidrs, toNetwork, unmapCidr } from './net/cidr.ts'
import type { Cidr } from './net/cidr.ts'

/** The CIDR of `cidrs` that holds `address` (IPv4-mapped IPv6 counts as IPv4), or undefined.
 * Re-exported because the runner and devstack import it through '@stampede/shared/targets'. */
export { containingCidr as blockingRange } from './net/cidr.ts'

/** Loopback range reserved for the platform's own services: in single-machine mode the embedded
 * Temporal, S3 and Postgres listen here (EMBEDDED_SERVICES_HOST), and the runner may open per-run
 * control sockets on other addresses of it (127.77.x.y). k6 can never reach it: it is in every
 * run's `blacklistIPs`, also in single-machine mode, and no allowlist entry may overlap it. */
export const PLATFORM_LOOPBACK_CIDR = '127.77.0.0/16'
/** The address the embedded services bind to by default (on Linux, where all of 127.0.0.0/8
 * answers on loopback). */
export const PLATFORM_LOOPBACK_HOST = '127.77.0.1'

/** Cloud instance-metadata and credential endpoints. Always blocked, whatever an allowlist or
 * single-machine mode opens, and no allowlist entry may contain one. */
export const METADATA_ADDRESSES: readonly string[] = [
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle Cloud, …
  'fd00:ec2::254', // AWS over IPv6
  'fd20:ce::254', // GCP over IPv6
  '169.254.170.2', // AWS ECS task metadata and credentials
  '169.254.170.23', // AWS EKS Pod Identity credentials
  'fd00:ec2::23', // AWS EKS Pod Identity credentials over IPv6
  '169.254.0.23', // Tencent Cloud (metadata.tencentyun.com)
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud
  '168.63.129.16', // Azure WireServer (VM agent configuration)
]

const BLOCKED_IPV4: readonly string[] = [
  '0.0.0.0/8', // "this network"; connecting to 0.0.0.0 reaches the local host on Linux
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT, also used by VPN overlays
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, home of 169.254.169.254 metadata services
  '172.16.0.0/12',
  '192.0.0.0/24', // IETF protocol assignments (e.g. 192.0.0.192 Oracle Cloud metadata)
  '192.168.0.0/16',
  '198.18.0.0/15', // benchmarking networks
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, including 255.255.255.255
]

/**
 * The IPv6 forms of an IPv4 network: under NAT64's well-known prefix (64:ff9b::/96, RFC 6052)
 * and under 6to4 (2002::/16, RFC 3056). A NAT64 gateway or 6to4 relay next to a runner turns
 * such an address back into the IPv4 one, so a blocked IPv4 network is blocked in both forms.
 */
function embeddedInIPv6(cidr: string): string[] {
  return [embedIPv4(cidr, '64:ff9b::/96'), embedIPv4(cidr, '2002::/16')]
}

/** Blocked unless a project opens them. Go normalises IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
 * to IPv4 before k6 compares, so the IPv4 ranges cover them too. ::ffff:0:0/96 itself is not
 * listed: Go reads that network as IPv4 0.0.0.0/0, which would block every IPv4 target. */
export const DEFAULT_BLOCKED_CIDRS: readonly string[] = [
  ...BLOCKED_IPV4,
  '::/128',
  '::1/128',
  'fc00::/7', // unique local, including AWS's fd00:ec2::254 metadata address
  'fe80::/10',
  '64:ff9b:1::/48', // NAT64 for local use (RFC 8215): the operator decides where the IPv4 address sits
  ...BLOCKED_IPV4.flatMap(embeddedInIPv6),
]

/** What the embedded single-machine mode opens so local demos can reach their own targets
 * (all but PLATFORM_LOOPBACK_CIDR, which stays blocked). */
export const LOOPBACK_CIDRS: readonly string[] = ['127.0.0.0/8', '::1/128']

/** Cloud metadata service names. Exact names only: k6 has no exceptions to a wildcard, so an
 * allowlisted hostname could not be carved out of one. None of them can be allowlisted. */
export const DEFAULT_BLOCKED_HOSTNAMES: readonly string[] = [
  'metadata', // GCP's short name, resolved through the search domain
  'metadata.google.internal',
  'metadata.goog',
  'instance-data', // AWS
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
]

/** The platform's reserved range, also as NAT64 and 6to4 addresses. */
const PLATFORM_CIDRS: readonly string[] = [PLATFORM_LOOPBACK_CIDR, ...embeddedInIPv6(PLATFORM_LOOPBACK_CIDR)]

/** Each metadata address as CIDRs: IPv4 ones also in their NAT64 and 6to4 forms. */
const METADATA_CIDRS: readonly { address: string; cidr: string }[] = METADATA_ADDRESSES.flatMap((address) =>
  (address.includes(':') ? [`${address}/128`] : [`${address}/32`, ...embeddedInIPv6(`${address}/32`)]).map((cidr) => ({ address, cidr })),
)

const PLATFORM_NETWORKS: readonly Cidr[] = PLATFORM_CIDRS.map(toNetwork)
const METADATA_NETWORKS: readonly Cidr[] = METADATA_CIDRS.map((m) => toNetwork(m.cidr))

/** In every run's `blacklistIPs`, whatever single-machine mode or an allowlist opens: they are put
 * back after the openings are subtracted. */
export const ALWAYS_BLOCKED_CIDRS: readonly string[] = [...PLATFORM_CIDRS, ...METADATA_CIDRS.map((m) => m.cidr)]
const ALWAYS_BLOCKED_NETWORKS: readonly Cidr[] = ALWAYS_BLOCKED_CIDRS.map(toNetwork)
const DEFAULT_BLOCKED_NETWORKS: readonly Cidr[] = DEFAULT_BLOCKED_CIDRS.map(toNetwork)

/** The widest network an allowlist entry may be, per address family. */
export const MIN_ALLOWLIST_PREFIX = { 4: 8, 6: 32 } as const

export type AllowlistEntry = { kind: 'cidr'; cidr: string } | { kind: 'host'; host: string }

/** A project's stored allowlist (a JSON column): its string entries, or none. */
export const storedAllowlist = (value: unknown): string[] => (Array.isArray(value) ? value.filter((e): e is string => typeof e === 'string') : [])

/** Validates one allowlist entry: an IP address, a CIDR, or an exact hostname. Returns the entry
 * in canonical form (addresses as network CIDRs, hostnames lower-case) or an error message that
 * names the entry, says why it is refused and what to do instead. Refused besides malformed
 * entries: networks wider than /8 (IPv4) or /32 (IPv6), anything holding a cloud-metadata address
 * or name, and anything overlapping the platform's reserved PLATFORM_LOOPBACK_CIDR. */
export function parseAllowlistEntry(entry: string): AllowlistEntry | string {
  const parsed = parseEntrySyntax(entry)
  if (typeof parsed === 'string') return parsed
  return allowlistRefusal(parsed, entry.trim()) ?? parsed
}

function parseEntrySyntax(entry: string): AllowlistEntry | string {
  const text = entry.trim()
  if (text === '') return 'an allowlist entry may not be empty'
  if (text.includes('/')) {
    const parsed = parseCidr(text)
    if (!parsed.ok) {
      return parsed.error === 'prefix' ? `${text}: the prefix length must be a number from 0 to ${parsed.max}` : `${text} is not an IP address, CIDR or hostname`
    }
    // An IPv4-mapped network is reported in its IPv4 form, the one Go and k6 compare with.
    const canonical = unmapCidr(parsed.cidr)
    if (!isNetwork(canonical)) {
      return `${text} has bits set after its /${canonical.prefix} prefix; did you mean ${formatCidr(networkOf(canonical))}?`
    }
    return { kind: 'cidr', cidr: formatCidr(canonical) }
  }
  if (parseIP(text)) return { kind: 'cidr', cidr: formatCidr(toNetwork(text)) }
  if (text.startsWith('*')) return `${text}: only exact hostnames can be allowlisted, not patterns`
  const host = text.toLowerCase().replace(/\.$/, '')
  if (isHostname(host)) return { kind: 'host', host }
  return `${text} is not an IP address, CIDR or hostname`
}

/** Why a well-formed entry may not be allowlisted, or undefined. */
function allowlistRefusal(entry: AllowlistEntry, text: string): string | undefined {
  if (entry.kind === 'host') {
    if (!DEFAULT_BLOCKED_HOSTNAMES.includes(entry.host)) return undefined
    return `${text} is a cloud-metadata service name, which is always blocked (it hands out the machine's credentials); it cannot be allowlisted`
  }
  const network = toNetwork(entry.cidr)
  const family = familyOf(network.address)
  const { prefix } = network
  const isSingle = prefix === addressBits(family)
  // An IPv4-mapped entry is judged as the IPv4 network Go and k6 compare it as.
  const shown = text.includes(':') && family === 4 ? `${text} (IPv4 ${isSingle ? entry.cidr.split('/')[0] : entry.cidr})` : text

  const min = MIN_ALLOWLIST_PREFIX[family]
  if (prefix < min) {
    return `${shown} is too wide: allowlist networks must be /${MIN_ALLOWLIST_PREFIX[4]} or narrower for IPv4 and /${MIN_ALLOWLIST_PREFIX[6]} or narrower for IPv6; list the networks your targets are in instead`
  }
  const metadata = METADATA_CIDRS.find((_, i) => overlaps(METADATA_NETWORKS[i]!, network))
  if (metadata) {
    const form = metadata.cidr.split('/')[0] === metadata.address ? '' : ` (as ${metadata.cidr.endsWith('/128') ? metadata.cidr.split('/')[0] : metadata.cidr})`
    if (isSingle) return `${shown} is a cloud-metadata address${form ? ` (${metadata.address})` : ''}, which is always blocked (it hands out the machine's credentials); it cannot be allowlisted`
    return `${shown} contains the cloud-metadata address ${metadata.address}${form}, which is always blocked; allowlist narrower networks that leave it out, or the exact addresses you test`
  }
  const platformAt = PLATFORM_NETWORKS.findIndex((reserved) => overlaps(reserved, network))
  const platform = PLATFORM_CIDRS[platformAt]
  if (platform) {
    const inside = contains(PLATFORM_NETWORKS[platformAt]!, network)
    const form = platform === PLATFORM_LOOPBACK_CIDR ? '' : ` (as ${platform})`
    return `${shown} ${inside ? 'is in' : 'overlaps'} ${PLATFORM_LOOPBACK_CIDR}${form}, which is reserved for Stampede's own services (Temporal, S3, Postgres); it cannot be allowlisted. Run the target on another address, such as 127.0.0.1, and allowlist that`
  }
  return undefined
}

export interface LookupAddress {
  address: string
  family: number
}
export type Lookup = (hostname: string) => Promise<readonly LookupAddress[]>

export interface TargetPolicyInput {
  /** Embedded single-machine mode: loopback targets are the point of a local demo. */
  allowLoopback: boolean
  /** The project's allowlist, as stored (entries that are refused today open nothing). */
  allowlist: readonly string[]
  /** Resolves allowlisted hostnames; defaults to the system resolver (all addresses). */
  lookup?: Lookup
}

export interface TargetPolicy {
  /** For k6's `--blacklist-ip`. */
  blacklistIPs: string[]
  /** For k6's `--block-hostnames`. */
  blockHostnames: string[]
  /** What this policy opens beyond the defaults, one line each, for the run's log. */
  opened: string[]
  /** Allowlist entries that opened nothing (invalid, refused, unresolvable, or not blocked
   * anyway) or less than they name (addresses that stay blocked). */
  warnings: string[]
}

const systemLookup: Lookup = async (hostname) => {
  // Imported here so that the rest of this module needs no Node built-in (the web app validates entries too).
  const dns = await import('node:dns/promises')
  return dns.lookup(hostname, { all: true })
}

/** The blocked ranges and hostnames for one run. Allowlisted hostnames are resolved now; k6
 * resolves them again when it connects, so a name whose addresses change between the two is
 * refused rather than let through. Whatever is opened, ALWAYS_BLOCKED_CIDRS stay blocked. */
export async function resolveTargetPolicy(input: TargetPolicyInput): Promise<TargetPolicy> {
  const lookup = input.lookup ?? systemLookup
  const opened: string[] = []
  const warnings: string[] = []
  const openings: string[] = []

  /** Records the ranges to open; false when none of them is blocked by default. */
  const open = (cidrs: readonly string[], reason: string) => {
    openings.push(...cidrs)
    if (!cidrs.some(isBlockedByDefault)) return false
    opened.push(`${cidrs.map(describeOpening).join(', ')} (${reason})`)
    return true
  }

  if (input.allowLoopback) open(LOOPBACK_CIDRS, 'embedded single-machine mode')

  for (const raw of input.allowlist) {
    const entry = parseAllowlistEntry(raw)
    if (typeof entry === 'string') {
      warnings.push(`allowlist entry ignored: ${entry}`)
      continue
    }
    if (entry.kind === 'cidr') {
      if (!open([entry.cidr], 'allowlist')) warnings.push(`allowlist entry ${entry.cidr} is not blocked by default; it opens nothing`)
      continue
    }
    let addresses: readonly LookupAddress[]
    try {
      addresses = await lookup(entry.host)
    } catch (err) {
      const code = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err)
      warnings.push(`allowlist entry ${entry.host} did not resolve (${code}); it opens no addresses`)
      continue
    }
    const resolved = [...new Set(addresses.flatMap(({ address }) => {
      const parsed = parseEntrySyntax(address)
      return typeof parsed !== 'string' && parsed.kind === 'cidr' ? [parsed.cidr] : []
    }))]
    const kept = resolved.filter(isAlwaysBlocked)
    const cidrs = resolved.filter((cidr) => !isAlwaysBlocked(cidr))
    if (kept.length > 0) {
      const why = kept.map((cidr) => `${cidr} (${METADATA_NETWORKS.some((m) => overlaps(m, toNetwork(cidr))) ? 'cloud metadata' : `reserved for the platform in ${PLATFORM_LOOPBACK_CIDR}`})`)
      warnings.push(`allowlist entry ${entry.host} resolves to ${why.join(', ')}, which stays blocked; it opens ${cidrs.length > 0 ? 'only its other addresses' : 'nothing'}`)
    }
    if (resolved.length === 0) {
      warnings.push(`allowlist entry ${entry.host} resolved to no addresses; it opens none`)
    } else if (cidrs.length > 0 && !open(cidrs, `allowlist: ${entry.host}`)) {
      warnings.push(`allowlist entry ${entry.host} resolves to ${cidrs.join(', ')}, which is not blocked by default`)
    }
  }

  return { blacklistIPs: [...blacklistFor(openings)], blockHostnames: [...DEFAULT_BLOCKED_HOSTNAMES], opened, warnings }
}

/** Blacklists by their openings: the range arithmetic takes 5–13 ms, and every run of a project asks for the same one. */
const blacklists = new Map<string, readonly string[]>()
const MAX_BLACKLISTS = 256

/** The default-blocked ranges minus the openings, with the always-blocked ranges put back, merged into the fewest CIDRs. */
function blacklistFor(openings: readonly string[]): readonly string[] {
  const key = openings.join(' ')
  const known = blacklists.get(key)
  if (known) return known
  const blacklist = subtractCidrs([...subtractCidrs(DEFAULT_BLOCKED_CIDRS, openings), ...ALWAYS_BLOCKED_CIDRS], [])
  // A plain bounded map: clearing it now and then costs one recomputation per project.
  if (blacklists.size >= MAX_BLACKLISTS) blacklists.clear()
  blacklists.set(key, blacklist)
  return blacklist
}

/** An opened range, naming the always-blocked ranges inside it that stay closed. */
function describeOpening(cidr: string): string {
  const network = toNetwork(cidr)
  const kept = subtractCidrs(ALWAYS_BLOCKED_CIDRS.filter((_, i) => overlaps(ALWAYS_BLOCKED_NETWORKS[i]!, network)), [])
  return kept.length > 0 ? `${cidr} minus ${kept.join(', ')}` : cidr
}

function isAlwaysBlocked(cidr: string): boolean {
  const network = toNetwork(cidr)
  return ALWAYS_BLOCKED_NETWORKS.some((b) => overlaps(b, network))
}

function isBlockedByDefault(cidr: string): boolean {
  const network = toNetwork(cidr)
  return DEFAULT_BLOCKED_NETWORKS.some((b) => overlaps(b, network))
}

export interface PlatformEndpoint {
  /** What the service is, e.g. `Temporal`, `database`, `S3`. */
  name: string
  /** A URL (`postgresql://…`, `http://…`) or `host:port`. Only host and port are ever shown. */
  address: string
}

export interface PlatformExposureInput {
  /** Single-machine mode (ALLOW_LOOPBACK_TARGETS): k6 may reach loopback. */
  allowLoopback: boolean
  endpoints: readonly PlatformEndpoint[]
}

/**
 * Warning lines for the platform services k6 scripts could reach: in single-machine mode, each
 * endpoint whose host is `localhost` or a loopback address outside PLATFORM_LOOPBACK_CIDR. Outside
 * single-machine mode loopback is blocked, so there is nothing to say. Pure: no name is resolved.
 */
export function platformExposure(input: PlatformExposureInput): string[] {
  if (!input.allowLoopback) return []
  const lines: string[] = []
  for (const { name, address } of input.endpoints) {
    const endpoint = endpointHost(address)
    if (!endpoint || !isExposedLoopback(endpoint.host)) continue
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
    const at = endpoint.port ? `${host}:${endpoint.port}` : host
    lines.push(`${name} at ${at} is reachable from k6 scripts in single-machine mode; bind it to 127.77.0.x (EMBEDDED_SERVICES_HOST) or set ALLOW_LOOPBACK_TARGETS=false`)
  }
  return lines
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'postgres:': '5432', 'postgresql:': '5432' }

/** Host and port of a URL or `host:port` (`[v6]:port`, a bare host or IPv6 address). */
function endpointHost(value: string): { host: string; port: string | undefined } | undefined {
  const text = value.trim()
  if (text === '') return undefined
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return undefined
    }
    const host = url.hostname.replace(/^\[|\]$/g, '')
    return host === '' ? undefined : { host, port: url.port || DEFAULT_PORTS[url.protocol] }
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] }
  // (A zone id, `fe80::1%eth0`, is not read as an address here, but such a host is never loopback k6 can reach.)
  if (ipFamily(text) === 6) return { host: text, port: undefined }
  const colon = text.lastIndexOf(':')
  if (colon > 0 && /^\d+$/.test(text.slice(colon + 1))) return { host: text.slice(0, colon), port: text.slice(colon + 1) }
  return { host: text, port: undefined }
}

/** `localhost` (and names under it) or a loopback address k6 may reach in single-machine mode. */
function isExposedLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '')
  if (name === 'localhost' || name.endsWith('.localhost')) return true
  if (!parseIP(host)) return false
  const address = toNetwork(host)
  return LOOPBACK_CIDRS.some((c) => contains(toNetwork(c), address)) && !contains(toNetwork(PLATFORM_LOOPBACK_CIDR), address)
}

/** An exact hostname as k6's `blockHostnames` reads one; an all-digit last label would be an
 * IPv4 address with a typo (10.0.0.300), not a name. */
function isHostname(host: string): boolean {
  const labels = host.split('.')
  return (
    host.length <= 253 &&
    labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l)) &&
    !/^\d+$/.test(labels.at(-1) ?? '')
  )
}

/** Validates an admin's allowlist for projects.update: canonical entries, or each bad one's message. */
export function parseTargetAllowlist(entries: readonly string[]): { ok: true; entries: string[] } | { ok: false; errors: { index: number; message: string }[] } {
  const errors: { index: number; message: string }[] = []
  const out: string[] = []
  entries.forEach((raw, index) => {
    const parsed = parseAllowlistEntry(raw)
    if (typeof parsed === 'string') errors.push({ index, message: parsed })
    else out.push(parsed.kind === 'cidr' ? parsed.cidr : parsed.host)
  })
  return errors.length > 0 ? { ok: false, errors } : { ok: true, entries: [...new Set(out)] }
}
