// IP addresses and CIDR networks: strict parsing, IPv4-mapped IPv6, containment, and the range
// arithmetic (merge, subtract, split into CIDRs) that ipaddr.js does not offer. No policy here:
// which networks are blocked is the business of ../targets.ts. No Node built-ins either, so it
// runs in the browser too.
//
// ipaddr.js parses, matches and formats. What stays hand-written, and why:
// - the strictness check in parseIP: ipaddr.js accepts the loose notations inet_aton does (octal
//   `0127.0.0.1`, hex, short `127.1`, a 32-bit number) and reads `::a.b.c.d` as IPv4-mapped
//   `::ffff:a.b.c.d`; Node's `net.isIP` and Go (so k6) refuse the former and read the latter as
//   the IPv6 address ::a.b:c.d. We accept exactly what `net.isIP` accepts, less zone ids;
// - the prefix length syntax (ipaddr.js's parseCIDR would accept any digits and any address form);
// - range arithmetic on bigints (subtractCidrs and its helpers): ipaddr.js matches an address
//   against a network but cannot merge, subtract or split ranges.
import ipaddr from 'ipaddr.js'

export type IP = ipaddr.IPv4 | ipaddr.IPv6
export type Family = 4 | 6

/** A network: an address and a prefix length. The address may have bits set after the prefix
 * (see `networkOf`). */
export interface Cidr {
  address: IP
  prefix: number
}

const isIPv6 = (ip: IP): ip is ipaddr.IPv6 => ip.kind() === 'ipv6'

export const familyOf = (ip: IP): Family => (isIPv6(ip) ? 6 : 4)

/** Address width in bits: 32 or 128. */
export const addressBits = (family: Family): number => (family === 4 ? 32 : 128)

/** The longest text Node's `net.isIP` accepts without a zone id:
 * `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`. Anything longer is not parsed at all. */
const MAX_ADDRESS_LENGTH = 45

/**
 * An IPv4 or IPv6 address, accepted exactly as Node's `net.isIP` accepts it (four-part decimal
 * IPv4 without leading zeros; IPv6 with an optional trailing dotted quad), except that zone ids
 * (`fe80::1%eth0`) are refused: they name an interface of one machine. Otherwise undefined.
 */
export function parseIP(text: string): IP | undefined {
  // The character checks only spare ipaddr.js texts it would refuse: its validators throw and
  // catch an Error for each, which costs more than the rest of the parse.
  if (text.length > MAX_ADDRESS_LENGTH) return undefined
  if (/^[\d.]+$/.test(text)) return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text) : undefined
  if (!text.includes(':') || !/^[\da-f:.]+$/i.test(text)) return undefined
  // A trailing dotted quad stands for the last two groups. ipaddr.js reads its octets loosely and
  // `::a.b.c.d` as `::ffff:a.b.c.d`, so it gets the two groups in hex instead.
  const colon = text.lastIndexOf(':')
  const tail = text.slice(colon + 1)
  let v6 = text
  if (tail.includes('.')) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(tail)) return undefined
    const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(tail).octets
    v6 = `${text.slice(0, colon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  return ipaddr.IPv6.isValid(v6) ? ipaddr.IPv6.parse(v6) : undefined
}

/** 4 or 6 for an address `parseIP` accepts, else 0 (like Node's `net.isIP`, without zone ids). */
export function ipFamily(text: string): 0 | Family {
  const ip = parseIP(text)
  return ip ? familyOf(ip) : 0
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address Go, and so k6, compares it as. */
export function unmapIP(ip: IP): IP {
  return isIPv6(ip) && ip.isIPv4MappedAddress() ? ip.toIPv4Address() : ip
}

/** Canonical text: dotted decimal, or RFC 5952 IPv6 (lower case, longest zero run as `::`, all hex). */
export function formatIP(ip: IP): string {
  return isIPv6(ip) ? ip.toRFC5952String() : ip.toString()
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIP(cidr.address)}/${cidr.prefix}`
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; error: 'address' } | { ok: false; error: 'prefix'; max: number }

/**
 * `address/prefix`, the address as `parseIP` takes it and the prefix as one to three digits no
 * larger than the address width (so `/08` is /8). `error: 'address'` when the address is not one
 * or there is more than one `/`; `error: 'prefix'` (with the largest allowed) for a bad prefix.
 * Bits set after the prefix are kept (see `networkOf`); IPv4-mapped networks stay IPv6 (see `unmapCidr`).
 */
export function parseCidr(text: string): CidrParse {
  const [addressText = '', prefixText = '', ...rest] = text.split('/')
  const address = parseIP(addressText)
  if (!address || rest.length > 0) return { ok: false, error: 'address' }
  const max = addressBits(familyOf(address))
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return { ok: false, error: 'prefix', max }
  return { ok: true, cidr: { address, prefix: Number(prefixText) } }
}

/** ::ffff:a.b.c.d/96+n is the IPv4 network a.b.c.d/n as far as Go (and so k6) is concerned. */
export function unmapCidr(cidr: Cidr): Cidr {
  const { address, prefix } = cidr
  if (isIPv6(address) && prefix >= 96 && address.isIPv4MappedAddress()) {
    return { address: address.toIPv4Address(), prefix: prefix - 96 }
  }
  return cidr
}

/** The network with the bits after its prefix cleared. */
export function networkOf(cidr: Cidr): Cidr {
  const { address, prefix } = cidr
  const mask = (address.kind() === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6).subnetMaskFromPrefixLength(prefix).toByteArray()
  return { address: ipaddr.fromByteArray(address.toByteArray().map((byte, i) => byte & mask[i]!)), prefix }
}

/** Whether `cidr` has no bits set after its prefix. */
export function isNetwork(cidr: Cidr): boolean {
  return formatIP(networkOf(cidr).address) === formatIP(cidr.address)
}

/**
 * A CIDR, or a single address as its /32 or /128, as the network Go compares with: IPv4-mapped
 * networks as IPv4, bits after the prefix cleared. Throws `not a CIDR: …` for anything else.
 */
export function toNetwork(text: string): Cidr {
  let cidr: Cidr | undefined
  if (text.includes('/')) {
    const parsed = parseCidr(text)
    if (parsed.ok) cidr = parsed.cidr
  } else {
    const address = parseIP(text)
    if (address) cidr = { address, prefix: addressBits(familyOf(address)) }
  }
  if (!cidr) throw new Error(`not a CIDR: ${text}`)
  return networkOf(unmapCidr(cidr))
}

/** Whether `address` is in `network` (same family; IPv4-mapped addresses are not unmapped here). */
export function holds(network: Cidr, address: IP): boolean {
  return address.kind() === network.address.kind() && address.match(network.address, network.prefix)
}

/** Whether every address of `inner` is in `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return outer.prefix <= inner.prefix && holds(outer, inner.address)
}

/** Whether the two networks share an address: one of two CIDR blocks that meet holds the other. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b) || contains(b, a)
}

/**
 * The IPv6 network that carries IPv4 network `ipv4` right after the prefix of IPv6 network `into`,
 * whose length must be a multiple of 8: `embedIPv4('10.0.0.0/8', '64:ff9b::/96')` is NAT64's
 * `64:ff9b::a00:0/104`, `embedIPv4('10.0.0.0/8', '2002::/16')` 6to4's `2002:a00::/24`.
 */
export function embedIPv4(ipv4: string, into: string): string {
  const v4 = toNetwork(ipv4)
  const v6 = toNetwork(into)
  if (v4.address.kind() !== 'ipv4' || v6.address.kind() !== 'ipv6' || v6.prefix % 8 !== 0 || v6.prefix > 96) {
    throw new Error(`cannot embed ${ipv4} in ${into}`)
  }
  const bytes = v6.address.toByteArray()
  bytes.splice(v6.prefix / 8, 4, ...v4.address.toByteArray())
  return formatCidr({ address: ipaddr.fromByteArray(bytes), prefix: v6.prefix + v4.prefix })
}

/** The CIDR of `cidrs` that holds `address` (IPv4-mapped IPv6 counts as IPv4), or undefined when
 * none does or `address` is not one. Throws `not a CIDR: …` for a bad CIDR checked on the way. */
export function containingCidr(address: string, cidrs: readonly string[]): string | undefined {
  const parsed = parseIP(address)
  if (!parsed) return undefined
  const ip = unmapIP(parsed)
  return cidrs.find((cidr) => holds(toNetwork(cidr), ip))
}

// --- Range arithmetic -------------------------------------------------------------------------
// Hand-written: ipaddr.js has no ranges, only address-in-network matching. Addresses become
// bigints so that ranges can be compared, joined and cut.

interface Range {
  family: Family
  start: bigint
  end: bigint
}

const toBigInt = (ip: IP): bigint => ip.toByteArray().reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n)

function fromBigInt(family: Family, n: bigint): IP {
  const length = addressBits(family) / 8
  return ipaddr.fromByteArray(Array.from({ length }, (_, i) => Number((n >> BigInt(8 * (length - 1 - i))) & 0xffn)))
}

function toRange(cidr: string): Range {
  const { address, prefix } = toNetwork(cidr)
  const family = familyOf(address)
  const start = toBigInt(address)
  return { family, start, end: start + (1n << BigInt(addressBits(family) - prefix)) - 1n }
}

/** Sorted, with overlapping and adjacent ranges joined. */
function merge(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
  const out: Range[] = []
  for (const r of sorted) {
    const last = out.at(-1)
    if (last && r.start <= last.end + 1n) {
      if (r.end > last.end) last.end = r.end
    } else {
      out.push({ ...r })
    }
  }
  return out
}

/** Both inputs merged; the result is too. */
function subtractRanges(from: Range[], minus: Range[]): Range[] {
  const out: Range[] = []
  for (const r of from) {
    let start = r.start
    for (const m of minus) {
      if (m.end < start || m.start > r.end) continue
      if (m.start > start) out.push({ family: r.family, start, end: m.start - 1n })
      start = m.end + 1n
      if (start > r.end) break
    }
    if (start <= r.end) out.push({ family: r.family, start, end: r.end })
  }
  return out
}

/** The fewest aligned blocks covering exactly [start, end]. */
function rangeToCidrs(family: Family, start: bigint, end: bigint): string[] {
  const bits = addressBits(family)
  const out: string[] = []
  let at = start
  while (at <= end) {
    let size = BigInt(bits)
    // The largest block aligned at `at`…
    while (size > 0n && at % (1n << size) !== 0n) size--
    // …that does not run past `end`.
    while (at + (1n << size) - 1n > end) size--
    out.push(formatCidr({ address: fromBigInt(family, at), prefix: bits - Number(size) }))
    at += 1n << size
  }
  return out
}

/** The address ranges of `blocked` minus those of `allowed` (CIDRs or single addresses, read by
 * `toNetwork`), as the fewest CIDRs that cover exactly the difference: IPv4 first, then IPv6,
 * each in ascending address order. Throws `not a CIDR: …` for anything else. */
export function subtractCidrs(blocked: readonly string[], allowed: readonly string[]): string[] {
  const out: string[] = []
  for (const family of [4, 6] as const) {
    const of = (cidrs: readonly string[]) => merge(cidrs.map(toRange).filter((r) => r.family === family))
    for (const r of subtractRanges(of(blocked), of(allowed))) out.push(...rangeToCidrs(family, r.start, r.end))
  }
  return out
}
