import { describe, expect, it } from 'vitest'
import {
  ALWAYS_BLOCKED_CIDRS,
  DEFAULT_BLOCKED_CIDRS,
  DEFAULT_BLOCKED_HOSTNAMES,
  METADATA_ADDRESSES,
  PLATFORM_LOOPBACK_CIDR,
  PLATFORM_LOOPBACK_HOST,
  parseAllowlistEntry,
  parseTargetAllowlist,
  blockingRange,
  platformExposure,
  resolveTargetPolicy,
} from './targets.ts'
import type { Lookup } from './targets.ts'
import { subtractCidrs } from './net/cidr.ts'

describe('parseAllowlistEntry', () => {
  it('reads addresses and CIDRs into canonical CIDRs', () => {
    expect(parseAllowlistEntry('10.0.0.1')).toEqual({ kind: 'cidr', cidr: '10.0.0.1/32' })
    expect(parseAllowlistEntry(' 10.20.0.0/16 ')).toEqual({ kind: 'cidr', cidr: '10.20.0.0/16' })
    expect(parseAllowlistEntry('FD00:EC2:0::253')).toEqual({ kind: 'cidr', cidr: 'fd00:ec2::253/128' })
    expect(parseAllowlistEntry('fd12:3456::/48')).toEqual({ kind: 'cidr', cidr: 'fd12:3456::/48' })
    expect(parseAllowlistEntry('::ffff:10.0.0.1')).toEqual({ kind: 'cidr', cidr: '10.0.0.1/32' })
    expect(parseAllowlistEntry('::ffff:10.0.0.0/104')).toEqual({ kind: 'cidr', cidr: '10.0.0.0/8' })
    expect(parseAllowlistEntry('0:0:0:0:0:0:0:1')).toEqual({ kind: 'cidr', cidr: '::1/128' })
    expect(parseAllowlistEntry('1:0:0:2:0:0:0:3')).toEqual({ kind: 'cidr', cidr: '1:0:0:2::3/128' })
  })

  it('reads exact hostnames, lower-cased and without a trailing dot', () => {
    expect(parseAllowlistEntry('Staging.Internal.')).toEqual({ kind: 'host', host: 'staging.internal' })
    expect(parseAllowlistEntry('localhost')).toEqual({ kind: 'host', host: 'localhost' })
    expect(parseAllowlistEntry('api-1.eu.example.com')).toEqual({ kind: 'host', host: 'api-1.eu.example.com' })
  })

  it('explains what is wrong with an entry', () => {
    expect(parseAllowlistEntry('10.0.0.300')).toBe('10.0.0.300 is not an IP address, CIDR or hostname')
    expect(parseAllowlistEntry('10.0.0.1/33')).toBe('10.0.0.1/33: the prefix length must be a number from 0 to 32')
    expect(parseAllowlistEntry('fd00::/129')).toBe('fd00::/129: the prefix length must be a number from 0 to 128')
    expect(parseAllowlistEntry('10.0.0.0/')).toBe('10.0.0.0/: the prefix length must be a number from 0 to 32')
    expect(parseAllowlistEntry('10.1.2.3/8')).toBe('10.1.2.3/8 has bits set after its /8 prefix; did you mean 10.0.0.0/8?')
    expect(parseAllowlistEntry('db/8')).toBe('db/8 is not an IP address, CIDR or hostname')
    expect(parseAllowlistEntry('*.internal')).toBe('*.internal: only exact hostnames can be allowlisted, not patterns')
    expect(parseAllowlistEntry('http://db.internal')).toBe('http://db.internal is not an IP address, CIDR or hostname')
    expect(parseAllowlistEntry('db.internal:5432')).toBe('db.internal:5432 is not an IP address, CIDR or hostname')
    expect(parseAllowlistEntry('-db.internal')).toBe('-db.internal is not an IP address, CIDR or hostname')
    expect(parseAllowlistEntry('fe80::1%eth0')).toBe('fe80::1%eth0 is not an IP address, CIDR or hostname')
    expect(parseAllowlistEntry('010.0.0.1')).toBe('010.0.0.1 is not an IP address, CIDR or hostname')
    expect(parseAllowlistEntry('  ')).toBe('an allowlist entry may not be empty')
    expect(parseAllowlistEntry(`${'a'.repeat(64)}.example.com`)).toMatch(/is not an IP address, CIDR or hostname$/)
  })

  it('reads addresses only as Node and Go do: no octal, short or zoned forms; ::a.b.c.d is IPv6', () => {
    for (const entry of ['0127.0.0.1', '127.1', '2130706433', '0x7f.0.0.1', '::ffff:0127.0.0.1', 'fe80::1%eth0', '0127.0.0.0/8']) {
      expect(parseAllowlistEntry(entry)).toBe(`${entry} is not an IP address, CIDR or hostname`)
    }
    expect(parseAllowlistEntry('::ffff:127.0.0.1')).toEqual({ kind: 'cidr', cidr: '127.0.0.1/32' })
    expect(parseAllowlistEntry('::127.0.0.1')).toEqual({ kind: 'cidr', cidr: '::7f00:1/128' })
    expect(parseAllowlistEntry('::ffff:10.0.0.1/104')).toBe('::ffff:10.0.0.1/104 has bits set after its /8 prefix; did you mean 10.0.0.0/8?')
  })

  it('refuses cloud-metadata addresses, in any form, and networks that contain one', () => {
    for (const address of METADATA_ADDRESSES) {
      expect(parseAllowlistEntry(address)).toBe(`${address} is a cloud-metadata address, which is always blocked (it hands out the machine's credentials); it cannot be allowlisted`)
    }
    expect(parseAllowlistEntry('::ffff:169.254.169.254')).toBe(
      "::ffff:169.254.169.254 (IPv4 169.254.169.254) is a cloud-metadata address, which is always blocked (it hands out the machine's credentials); it cannot be allowlisted",
    )
    expect(parseAllowlistEntry('64:ff9b::a9fe:a9fe')).toMatch(/^64:ff9b::a9fe:a9fe is a cloud-metadata address \(169\.254\.169\.254\)/)
    expect(parseAllowlistEntry('169.254.0.0/16')).toBe(
      '169.254.0.0/16 contains the cloud-metadata address 169.254.169.254, which is always blocked; allowlist narrower networks that leave it out, or the exact addresses you test',
    )
    expect(parseAllowlistEntry('100.64.0.0/10')).toMatch(/^100\.64\.0\.0\/10 contains the cloud-metadata address 100\.100\.100\.200,/)
    expect(parseAllowlistEntry('192.0.0.128/25')).toMatch(/^192\.0\.0\.128\/25 contains the cloud-metadata address 192\.0\.0\.192,/)
    expect(parseAllowlistEntry('fd00:ec2::/32')).toMatch(/^fd00:ec2::\/32 contains the cloud-metadata address fd00:ec2::254,/)
    expect(parseAllowlistEntry('64:ff9b::/96')).toMatch(/^64:ff9b::\/96 contains the cloud-metadata address 169\.254\.169\.254 \(as 64:ff9b::a9fe:a9fe\)/)
    expect(parseAllowlistEntry('2002:a9fe::/32')).toMatch(/^2002:a9fe::\/32 contains the cloud-metadata address 169\.254\.169\.254 \(as 2002:a9fe:a9fe::\/48\)/)
    // Next to a metadata address is fine.
    expect(parseAllowlistEntry('169.254.169.253')).toEqual({ kind: 'cidr', cidr: '169.254.169.253/32' })
    expect(parseAllowlistEntry('169.254.10.0/24')).toEqual({ kind: 'cidr', cidr: '169.254.10.0/24' })
  })

  it('refuses cloud-metadata service names', () => {
    for (const name of DEFAULT_BLOCKED_HOSTNAMES) {
      expect(parseAllowlistEntry(name)).toBe(`${name} is a cloud-metadata service name, which is always blocked (it hands out the machine's credentials); it cannot be allowlisted`)
    }
    expect(parseAllowlistEntry('Metadata.Google.Internal.')).toMatch(/^Metadata\.Google\.Internal\. is a cloud-metadata service name/)
    expect(parseAllowlistEntry('metadata.example.com')).toEqual({ kind: 'host', host: 'metadata.example.com' })
  })

  it('refuses networks wider than /8 (IPv4) or /32 (IPv6), also written as IPv4-mapped IPv6', () => {
    const tooWide = 'allowlist networks must be /8 or narrower for IPv4 and /32 or narrower for IPv6; list the networks your targets are in instead'
    expect(parseAllowlistEntry('0.0.0.0/0')).toBe(`0.0.0.0/0 is too wide: ${tooWide}`)
    expect(parseAllowlistEntry('10.0.0.0/7')).toBe(`10.0.0.0/7 is too wide: ${tooWide}`)
    expect(parseAllowlistEntry('::/0')).toBe(`::/0 is too wide: ${tooWide}`)
    expect(parseAllowlistEntry('2000::/3')).toBe(`2000::/3 is too wide: ${tooWide}`)
    expect(parseAllowlistEntry('fd00::/31')).toBe(`fd00::/31 is too wide: ${tooWide}`)
    expect(parseAllowlistEntry('::ffff:0:0/96')).toBe(`::ffff:0:0/96 (IPv4 0.0.0.0/0) is too wide: ${tooWide}`)
    expect(parseAllowlistEntry('::ffff:0.0.0.0/100')).toBe(`::ffff:0.0.0.0/100 (IPv4 0.0.0.0/4) is too wide: ${tooWide}`)
    expect(parseAllowlistEntry('10.0.0.0/8')).toEqual({ kind: 'cidr', cidr: '10.0.0.0/8' })
    expect(parseAllowlistEntry('fd12:3456::/32')).toEqual({ kind: 'cidr', cidr: 'fd12:3456::/32' })
  })

  it("refuses anything in or overlapping the platform's reserved loopback range", () => {
    const reserved = "which is reserved for Stampede's own services (Temporal, S3, Postgres); it cannot be allowlisted. Run the target on another address, such as 127.0.0.1, and allowlist that"
    expect(parseAllowlistEntry(PLATFORM_LOOPBACK_HOST)).toBe(`127.77.0.1 is in 127.77.0.0/16, ${reserved}`)
    expect(parseAllowlistEntry('127.77.200.9')).toBe(`127.77.200.9 is in 127.77.0.0/16, ${reserved}`)
    expect(parseAllowlistEntry('127.77.0.0/24')).toBe(`127.77.0.0/24 is in 127.77.0.0/16, ${reserved}`)
    expect(parseAllowlistEntry('127.0.0.0/8')).toBe(`127.0.0.0/8 overlaps 127.77.0.0/16, ${reserved}`)
    expect(parseAllowlistEntry('127.76.0.0/15')).toBe(`127.76.0.0/15 overlaps 127.77.0.0/16, ${reserved}`)
    expect(parseAllowlistEntry('::ffff:127.77.0.1')).toBe(`::ffff:127.77.0.1 (IPv4 127.77.0.1) is in 127.77.0.0/16, ${reserved}`)
    expect(parseAllowlistEntry('64:ff9b::7f4d:1')).toBe(`64:ff9b::7f4d:1 is in 127.77.0.0/16 (as 64:ff9b::7f4d:0/112), ${reserved}`)
    expect(parseAllowlistEntry('64:ff9b::7f00:0/104')).toBe(`64:ff9b::7f00:0/104 overlaps 127.77.0.0/16 (as 64:ff9b::7f4d:0/112), ${reserved}`)
    expect(parseAllowlistEntry('2002:7f4d:100::/40')).toBe(`2002:7f4d:100::/40 is in 127.77.0.0/16 (as 2002:7f4d::/32), ${reserved}`)
    expect(parseAllowlistEntry('127.78.0.1')).toEqual({ kind: 'cidr', cidr: '127.78.0.1/32' })
    expect(parseAllowlistEntry('127.0.0.0/10')).toEqual({ kind: 'cidr', cidr: '127.0.0.0/10' })
  })
})

describe('parseTargetAllowlist', () => {
  it('returns canonical, de-duplicated entries', () => {
    expect(parseTargetAllowlist(['10.1.2.3', ' 10.20.0.0/16', 'API.internal', '10.1.2.3/32'])).toEqual({ ok: true, entries: ['10.1.2.3/32', '10.20.0.0/16', 'api.internal'] })
  })

  it('names every refused entry by its index', () => {
    const result = parseTargetAllowlist(['10.1.2.3', '169.254.169.254', 'api.internal', '0.0.0.0/0', '127.77.0.1'])
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.errors.map((e) => e.index)).toEqual([1, 3, 4])
    expect(result.errors[0]!.message).toMatch(/^169\.254\.169\.254 is a cloud-metadata address/)
    expect(result.errors[1]!.message).toMatch(/^0\.0\.0\.0\/0 is too wide/)
    expect(result.errors[2]!.message).toMatch(/^127\.77\.0\.1 is in 127\.77\.0\.0\/16/)
  })
})

describe('resolveTargetPolicy', () => {
  const fakeLookup = (table: Record<string, string[]>): Lookup => async (hostname) => {
    const addresses = table[hostname]
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  const noLookup: Lookup = () => Promise.reject(new Error('no hostname should be looked up'))

  it('blocks every default range and metadata name when nothing is allowed', async () => {
    const policy = await resolveTargetPolicy({ allowLoopback: false, allowlist: [], lookup: noLookup })
    expect(policy.blacklistIPs).toEqual(subtractCidrs([...DEFAULT_BLOCKED_CIDRS, ...ALWAYS_BLOCKED_CIDRS], []))
    expect(policy.blacklistIPs).toEqual([
      '0.0.0.0/8',
      '10.0.0.0/8',
      '100.64.0.0/10',
      '127.0.0.0/8',
      '168.63.129.16/32', // Azure's WireServer: a public address, blocked as metadata
      '169.254.0.0/16',
      '172.16.0.0/12',
      '192.0.0.0/24',
      '192.168.0.0/16',
      '198.18.0.0/15',
      '224.0.0.0/3',
      '::/127',
      // The same IPv4 networks under NAT64's well-known prefix…
      '64:ff9b::/104',
      '64:ff9b::a00:0/104',
      '64:ff9b::6440:0/106',
      '64:ff9b::7f00:0/104',
      '64:ff9b::a83f:8110/128',
      '64:ff9b::a9fe:0/112',
      '64:ff9b::ac10:0/108',
      '64:ff9b::c000:0/120',
      '64:ff9b::c0a8:0/112',
      '64:ff9b::c612:0/111',
      '64:ff9b::e000:0/99',
      '64:ff9b:1::/48',
      // …and under 6to4.
      '2002::/24',
      '2002:a00::/24',
      '2002:6440::/26',
      '2002:7f00::/24',
      '2002:a83f:8110::/48',
      '2002:a9fe::/32',
      '2002:ac10::/28',
      '2002:c000::/40',
      '2002:c0a8::/32',
      '2002:c612::/31',
      '2002:e000::/19',
      'fc00::/7',
      'fe80::/10',
    ])
    expect(policy.blockHostnames).toEqual(DEFAULT_BLOCKED_HOSTNAMES)
    expect(policy.opened).toEqual([])
    expect(policy.warnings).toEqual([])
  })

  /** Whether every address of `cidr` is in one of `list`. */
  const covered = (cidr: string, list: readonly string[]) => subtractCidrs([cidr], list).length === 0

  it("opens loopback in embedded single-machine mode, all but the platform's reserved range", async () => {
    const policy = await resolveTargetPolicy({ allowLoopback: true, allowlist: [], lookup: noLookup })
    expect(policy.blacklistIPs).not.toContain('127.0.0.0/8')
    expect(policy.blacklistIPs).toContain(PLATFORM_LOOPBACK_CIDR)
    expect(policy.blacklistIPs).toContain('::/128')
    expect(policy.blacklistIPs).toContain('10.0.0.0/8')
    expect(blockingRange('127.0.0.1', policy.blacklistIPs)).toBeUndefined()
    expect(blockingRange('127.77.0.1', policy.blacklistIPs)).toBe('127.77.0.0/16')
    expect(blockingRange('127.77.255.254', policy.blacklistIPs)).toBe('127.77.0.0/16')
    expect(blockingRange('127.78.0.1', policy.blacklistIPs)).toBeUndefined()
    expect(blockingRange('::1', policy.blacklistIPs)).toBeUndefined()
    // The only loopback left blocked is the reserved range.
    expect(subtractCidrs(['127.0.0.0/8'], policy.blacklistIPs)).toEqual(subtractCidrs(['127.0.0.0/8'], [PLATFORM_LOOPBACK_CIDR]))
    expect(policy.opened).toEqual(['127.0.0.0/8 minus 127.77.0.0/16, ::1/128 (embedded single-machine mode)'])
    expect(policy.warnings).toEqual([])
  })

  it('opens allowlisted CIDRs and the addresses allowlisted hostnames resolve to', async () => {
    const policy = await resolveTargetPolicy({
      allowLoopback: false,
      allowlist: ['10.0.0.0/8', 'db.staging', '172.16.5.5', '169.254.10.0/24'],
      lookup: fakeLookup({ 'db.staging': ['192.168.1.10', 'fd00::10'] }),
    })
    expect(policy.blacklistIPs).not.toContain('10.0.0.0/8')
    expect(policy.blacklistIPs).not.toContain('192.168.0.0/16')
    expect(policy.blacklistIPs).toContain('192.168.1.11/32')
    expect(policy.blacklistIPs).toContain('172.16.5.4/32')
    expect(policy.blacklistIPs).toContain('fd00::11/128')
    expect(policy.blacklistIPs).not.toContain('169.254.0.0/16')
    // Only what was opened: the rest of each range stays blocked.
    expect(subtractCidrs(DEFAULT_BLOCKED_CIDRS, policy.blacklistIPs)).toEqual([
      '10.0.0.0/8',
      '169.254.10.0/24',
      '172.16.5.5/32',
      '192.168.1.10/32',
      'fd00::10/128',
    ])
    expect(policy.blockHostnames).toEqual(DEFAULT_BLOCKED_HOSTNAMES)
    expect(policy.opened).toEqual([
      '10.0.0.0/8 (allowlist)',
      '192.168.1.10/32, fd00::10/128 (allowlist: db.staging)',
      '172.16.5.5/32 (allowlist)',
      '169.254.10.0/24 (allowlist)',
    ])
    expect(policy.warnings).toEqual([])
  })

  it('reports entries that open nothing, and opens nothing for them', async () => {
    const policy = await resolveTargetPolicy({
      allowLoopback: false,
      allowlist: ['gone.internal', '10.0.0.300', '8.8.8.8', 'public.example'],
      lookup: fakeLookup({ 'public.example': ['93.184.215.14'] }),
    })
    expect(policy.blacklistIPs).toEqual(subtractCidrs([...DEFAULT_BLOCKED_CIDRS, ...ALWAYS_BLOCKED_CIDRS], []))
    expect(policy.opened).toEqual([])
    expect(policy.warnings).toEqual([
      'allowlist entry gone.internal did not resolve (ENOTFOUND); it opens no addresses',
      'allowlist entry ignored: 10.0.0.300 is not an IP address, CIDR or hostname',
      'allowlist entry 8.8.8.8/32 is not blocked by default; it opens nothing',
      'allowlist entry public.example resolves to 93.184.215.14/32, which is not blocked by default',
    ])
  })

  it('ignores, with a warning each, stored entries that are refused today: they open nothing', async () => {
    // Rows saved before these entries were refused: everything, metadata, the reserved range.
    const old = ['0.0.0.0/0', '::/0', '::ffff:0:0/96', '169.254.0.0/16', '169.254.169.254', 'fd00:ec2::254', '127.0.0.0/8', '127.77.0.1', 'metadata.google.internal', '10.0.0.0/7']
    for (const allowLoopback of [false, true]) {
      const policy = await resolveTargetPolicy({ allowLoopback, allowlist: old, lookup: noLookup })
      const baseline = await resolveTargetPolicy({ allowLoopback, allowlist: [], lookup: noLookup })
      expect(policy.blacklistIPs).toEqual(baseline.blacklistIPs)
      expect(policy.blockHostnames).toEqual(DEFAULT_BLOCKED_HOSTNAMES)
      expect(policy.opened).toEqual(baseline.opened)
      expect(policy.warnings).toHaveLength(old.length)
      policy.warnings.forEach((warning, i) => expect(warning).toBe(`allowlist entry ignored: ${String(parseAllowlistEntry(old[i]!))}`))
    }
  })

  it('keeps metadata addresses and the reserved range blocked when an allowlisted name resolves to them', async () => {
    const policy = await resolveTargetPolicy({
      allowLoopback: false,
      allowlist: ['sneaky.example', 'platform.example', 'mixed.example'],
      lookup: fakeLookup({
        'sneaky.example': ['169.254.169.254', '::ffff:100.100.100.200'],
        'platform.example': ['127.77.0.1'],
        'mixed.example': ['10.9.9.9', 'fd00:ec2::254'],
      }),
    })
    for (const address of ['169.254.169.254', '100.100.100.200', '127.77.0.1', 'fd00:ec2::254']) expect(blockingRange(address, policy.blacklistIPs)).toBeDefined()
    expect(blockingRange('10.9.9.9', policy.blacklistIPs)).toBeUndefined()
    expect(subtractCidrs(DEFAULT_BLOCKED_CIDRS, policy.blacklistIPs)).toEqual(['10.9.9.9/32'])
    expect(policy.opened).toEqual(['10.9.9.9/32 (allowlist: mixed.example)'])
    expect(policy.warnings).toEqual([
      'allowlist entry sneaky.example resolves to 169.254.169.254/32 (cloud metadata), 100.100.100.200/32 (cloud metadata), which stays blocked; it opens nothing',
      'allowlist entry platform.example resolves to 127.77.0.1/32 (reserved for the platform in 127.77.0.0/16), which stays blocked; it opens nothing',
      'allowlist entry mixed.example resolves to fd00:ec2::254/128 (cloud metadata), which stays blocked; it opens only its other addresses',
    ])
  })

  it('blocks every metadata address and the reserved range, in their IPv6 forms too, under any policy', async () => {
    const policies = await Promise.all([
      resolveTargetPolicy({ allowLoopback: false, allowlist: [], lookup: noLookup }),
      resolveTargetPolicy({ allowLoopback: true, allowlist: [], lookup: noLookup }),
      resolveTargetPolicy({ allowLoopback: true, allowlist: ['169.254.0.0/17', '169.254.128.0/17', '100.64.0.0/10', '10.0.0.0/8', 'fd00::/32', 'any.example'], lookup: fakeLookup({ 'any.example': [...METADATA_ADDRESSES, '127.77.0.1'] }) }),
    ])
    expect(ALWAYS_BLOCKED_CIDRS).toContain('64:ff9b::a9fe:a9fe/128')
    expect(ALWAYS_BLOCKED_CIDRS).toContain('2002:a9fe:a9fe::/48')
    expect(ALWAYS_BLOCKED_CIDRS).toContain('64:ff9b::7f4d:0/112')
    expect(ALWAYS_BLOCKED_CIDRS).toContain('2002:7f4d::/32')
    for (const policy of policies) {
      for (const cidr of ALWAYS_BLOCKED_CIDRS) expect(covered(cidr, policy.blacklistIPs), `${cidr} in ${policy.blacklistIPs.join(' ')}`).toBe(true)
      // Merged into the fewest CIDRs: merging again changes nothing.
      expect(subtractCidrs(policy.blacklistIPs, [])).toEqual(policy.blacklistIPs)
    }
  })
})

describe('platformExposure', () => {
  const advice = 'is reachable from k6 scripts in single-machine mode; bind it to 127.77.0.x (EMBEDDED_SERVICES_HOST) or set ALLOW_LOOPBACK_TARGETS=false'

  it('names each platform endpoint on loopback outside the reserved range, in single-machine mode', () => {
    expect(
      platformExposure({
        allowLoopback: true,
        endpoints: [
          { name: 'Temporal', address: '127.0.0.1:7233' },
          { name: 'database', address: 'postgresql://stampede:s3cret@localhost/stampede?sslmode=disable' },
          { name: 'S3', address: 'http://127.0.0.1:9000' },
          { name: 'Temporal UI', address: 'http://[::1]:8233/' },
          { name: 'cache', address: '[::ffff:127.0.0.2]:6379' },
          { name: 'other', address: 'api.localhost:80' },
        ],
      }),
    ).toEqual([
      `Temporal at 127.0.0.1:7233 ${advice}`,
      `database at localhost:5432 ${advice}`,
      `S3 at 127.0.0.1:9000 ${advice}`,
      `Temporal UI at [::1]:8233 ${advice}`,
      `cache at [::ffff:127.0.0.2]:6379 ${advice}`,
      `other at api.localhost:80 ${advice}`,
    ])
  })

  it('never shows the credentials of a URL', () => {
    const [line] = platformExposure({ allowLoopback: true, endpoints: [{ name: 'database', address: 'postgresql://postgres:hunter2@127.0.0.1:5433/postgres' }] })
    expect(line).toBe(`database at 127.0.0.1:5433 ${advice}`)
    expect(line).not.toContain('hunter2')
  })

  it('says nothing of endpoints in the reserved range, off loopback, or unparsable', () => {
    expect(
      platformExposure({
        allowLoopback: true,
        endpoints: [
          { name: 'Temporal', address: `${PLATFORM_LOOPBACK_HOST}:7233` },
          { name: 'S3', address: 'http://127.77.3.4:9000' },
          { name: 'database', address: 'postgresql://postgres@db.internal:5432/stampede' },
          { name: 'S3', address: 'https://s3.eu-central-1.amazonaws.com' },
          { name: 'Temporal', address: '10.0.0.5:7233' },
          { name: 'database', address: 'postgresql:///stampede?host=/var/run/postgresql' },
          { name: 'nothing', address: '' },
          { name: 'broken', address: 'http://[::1' },
        ],
      }),
    ).toEqual([])
  })

  it('says nothing outside single-machine mode, where loopback is blocked', () => {
    expect(platformExposure({ allowLoopback: false, endpoints: [{ name: 'Temporal', address: '127.0.0.1:7233' }] })).toEqual([])
  })
})

describe('blockingRange', () => {
  it('names the blocked range an address falls in, for IPv4, IPv6 and IPv4-mapped IPv6', async () => {
    const { blacklistIPs } = await resolveTargetPolicy({ allowLoopback: false, allowlist: ['10.1.2.3'] })
    expect(blockingRange('127.0.0.1', blacklistIPs)).toBe('127.0.0.0/8')
    expect(blockingRange('::ffff:169.254.169.254', blacklistIPs)).toBe('169.254.0.0/16')
    expect(blockingRange('fd00::1', blacklistIPs)).toBe('fc00::/7')
    expect(blockingRange('10.1.2.3', blacklistIPs)).toBeUndefined()
    expect(blockingRange('93.184.216.34', blacklistIPs)).toBeUndefined()
    expect(blockingRange('not an ip', blacklistIPs)).toBeUndefined()
  })

  it('finds blocked IPv4 networks inside NAT64 and 6to4 addresses, and leaves public ones open', async () => {
    const { blacklistIPs } = await resolveTargetPolicy({ allowLoopback: false, allowlist: [] })
    expect(blockingRange('64:ff9b::a9fe:a9fe', blacklistIPs)).toBe('64:ff9b::a9fe:0/112') // 169.254.169.254
    expect(blockingRange('64:ff9b::10.1.2.3', blacklistIPs)).toBe('64:ff9b::a00:0/104')
    expect(blockingRange('64:ff9b:1::a00:1', blacklistIPs)).toBe('64:ff9b:1::/48')
    expect(blockingRange('2002:c0a8:101::1', blacklistIPs)).toBe('2002:c0a8::/32') // 192.168.1.1
    expect(blockingRange('2002:7f00:1::1', blacklistIPs)).toBe('2002:7f00::/24') // 127.0.0.1
    expect(blockingRange('64:ff9b::808:808', blacklistIPs)).toBeUndefined() // 8.8.8.8
    expect(blockingRange('2002:5db8:d822::1', blacklistIPs)).toBeUndefined() // 93.184.216.34
  })
})
