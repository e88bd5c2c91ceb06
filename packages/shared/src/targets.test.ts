import { describe, expect, it } from 'vitest'
import {
  DEFAULT_BLOCKED_CIDRS,
  DEFAULT_BLOCKED_HOSTNAMES,
  parseAllowlistEntry,
  blockingRange,
  resolveTargetPolicy,
  subtractCidrs,
} from './targets.ts'
import type { Lookup } from './targets.ts'

describe('subtractCidrs', () => {
  it('returns the blocked ranges unchanged when nothing is allowed, merging adjacent ones', () => {
    expect(subtractCidrs(['10.0.0.0/8', '192.168.0.0/16'], [])).toEqual(['10.0.0.0/8', '192.168.0.0/16'])
    expect(subtractCidrs(['240.0.0.0/4', '224.0.0.0/4'], [])).toEqual(['224.0.0.0/3'])
    expect(subtractCidrs(['10.0.0.0/8', '10.1.0.0/16'], [])).toEqual(['10.0.0.0/8'])
  })

  it('removes a range that is allowed as a whole, or by a larger range', () => {
    expect(subtractCidrs(['10.0.0.0/8', '127.0.0.0/8'], ['127.0.0.0/8'])).toEqual(['10.0.0.0/8'])
    expect(subtractCidrs(['10.0.0.0/8'], ['0.0.0.0/0'])).toEqual([])
    expect(subtractCidrs(['fc00::/7'], ['::/0'])).toEqual([])
  })

  it('leaves one CIDR per prefix length /9../32 for a /8 with one address allowed in it', () => {
    const rest = subtractCidrs(['10.0.0.0/8'], ['10.1.2.3/32'])
    expect(rest).toHaveLength(24)
    expect(new Set(rest.map((cidr) => Number(cidr.split('/')[1])))).toEqual(new Set(Array.from({ length: 24 }, (_, i) => i + 9)))
    expect(rest).toContain('10.1.2.2/32')
    expect(rest).toContain('10.1.2.0/31')
    expect(rest).toContain('10.128.0.0/9')
    expect(rest).not.toContain('10.1.2.3/32')
    // Adding the address back gives the /8 again: the pieces cover exactly the rest.
    expect(subtractCidrs([...rest, '10.1.2.3/32'], [])).toEqual(['10.0.0.0/8'])
  })

  it('splits at the edges of a range', () => {
    expect(subtractCidrs(['127.0.0.0/8'], ['127.0.0.0/32'])).toHaveLength(24)
    expect(subtractCidrs(['127.0.0.0/8'], ['127.0.0.0/32'])[0]).toBe('127.0.0.1/32')
    expect(subtractCidrs(['127.0.0.0/8'], ['127.0.0.0/32']).at(-1)).toBe('127.128.0.0/9')
    expect(subtractCidrs(['127.0.0.0/8'], ['127.255.255.255/32'])[0]).toBe('127.0.0.0/9')
    expect(subtractCidrs(['127.0.0.0/8'], ['127.255.255.255/32']).at(-1)).toBe('127.255.255.254/32')
    expect(subtractCidrs(['127.0.0.0/8'], ['127.0.0.0/9'])).toEqual(['127.128.0.0/9'])
  })

  it('ignores allowed ranges outside the blocked ones, and of the other family', () => {
    expect(subtractCidrs(['10.0.0.0/8'], ['8.8.8.8/32', '11.0.0.0/8', 'fc00::/7'])).toEqual(['10.0.0.0/8'])
    expect(subtractCidrs(['fc00::/7'], ['10.0.0.0/8', '2001:db8::/32'])).toEqual(['fc00::/7'])
  })

  it('subtracts IPv6 ranges', () => {
    expect(subtractCidrs(['::/128', '::1/128', 'fe80::/10'], ['::1/128'])).toEqual(['::/128', 'fe80::/10'])
    expect(subtractCidrs(['fc00::/7'], ['fd00::/8'])).toEqual(['fc00::/8'])
    const rest = subtractCidrs(['fc00::/7'], ['fd00:ec2::254/128'])
    expect(rest).toHaveLength(121)
    expect(rest[0]).toBe('fc00::/8')
    expect(rest).toContain('fd00:ec2::255/128')
    expect(rest).toContain('fd00:ec2::250/126')
    expect(subtractCidrs([...rest, 'fd00:ec2::254/128'], [])).toEqual(['fc00::/7'])
  })

  it('treats IPv4-mapped IPv6 networks as the IPv4 networks Go compares them as', () => {
    expect(subtractCidrs(['10.0.0.0/8'], ['::ffff:10.0.0.0/104'])).toEqual([])
  })

  it('orders IPv4 before IPv6 and each by address, whatever the input order', () => {
    expect(subtractCidrs(['fe80::/10', '192.168.0.0/16', '::1/128', '10.0.0.0/8'], [])).toEqual([
      '10.0.0.0/8',
      '192.168.0.0/16',
      '::1/128',
      'fe80::/10',
    ])
  })

  it('rejects what is not a CIDR', () => {
    expect(() => subtractCidrs(['10.0.0.0/33'], [])).toThrow('not a CIDR: 10.0.0.0/33')
  })
})

describe('parseAllowlistEntry', () => {
  it('reads addresses and CIDRs into canonical CIDRs', () => {
    expect(parseAllowlistEntry('10.0.0.1')).toEqual({ kind: 'cidr', cidr: '10.0.0.1/32' })
    expect(parseAllowlistEntry(' 10.20.0.0/16 ')).toEqual({ kind: 'cidr', cidr: '10.20.0.0/16' })
    expect(parseAllowlistEntry('FD00:EC2:0::254')).toEqual({ kind: 'cidr', cidr: 'fd00:ec2::254/128' })
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
    expect(policy.blacklistIPs).toEqual(subtractCidrs(DEFAULT_BLOCKED_CIDRS, []))
    expect(policy.blacklistIPs).toEqual([
      '0.0.0.0/8',
      '10.0.0.0/8',
      '100.64.0.0/10',
      '127.0.0.0/8',
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

  it('opens loopback in embedded single-machine mode', async () => {
    const policy = await resolveTargetPolicy({ allowLoopback: true, allowlist: [], lookup: noLookup })
    expect(policy.blacklistIPs).not.toContain('127.0.0.0/8')
    expect(policy.blacklistIPs).toContain('::/128')
    expect(policy.blacklistIPs).toContain('10.0.0.0/8')
    expect(policy.opened).toEqual(['127.0.0.0/8, ::1/128 (embedded single-machine mode)'])
  })

  it('opens allowlisted CIDRs and the addresses allowlisted hostnames resolve to', async () => {
    const policy = await resolveTargetPolicy({
      allowLoopback: false,
      allowlist: ['10.0.0.0/8', 'db.staging', 'Metadata.Google.Internal', '172.16.5.5'],
      lookup: fakeLookup({ 'db.staging': ['192.168.1.10', 'fd00::10'], 'metadata.google.internal': ['169.254.169.254'] }),
    })
    expect(policy.blacklistIPs).not.toContain('10.0.0.0/8')
    expect(policy.blacklistIPs).not.toContain('192.168.0.0/16')
    expect(policy.blacklistIPs).toContain('192.168.1.11/32')
    expect(policy.blacklistIPs).toContain('172.16.5.4/32')
    expect(policy.blacklistIPs).toContain('fd00::11/128')
    expect(policy.blacklistIPs).not.toContain('169.254.0.0/16')
    expect(policy.blacklistIPs).toContain('169.254.169.255/32')
    // Only what was opened: the rest of each range stays blocked.
    expect(subtractCidrs(DEFAULT_BLOCKED_CIDRS, policy.blacklistIPs)).toEqual([
      '10.0.0.0/8',
      '169.254.169.254/32',
      '172.16.5.5/32',
      '192.168.1.10/32',
      'fd00::10/128',
    ])
    expect(policy.blockHostnames).not.toContain('metadata.google.internal')
    expect(policy.blockHostnames).toContain('metadata.goog')
    expect(policy.opened).toEqual([
      '10.0.0.0/8 (allowlist)',
      '192.168.1.10/32, fd00::10/128 (allowlist: db.staging)',
      'hostname metadata.google.internal (allowlist)',
      '169.254.169.254/32 (allowlist: metadata.google.internal)',
      '172.16.5.5/32 (allowlist)',
    ])
    expect(policy.warnings).toEqual([])
  })

  it('reports entries that open nothing, and opens nothing for them', async () => {
    const policy = await resolveTargetPolicy({
      allowLoopback: false,
      allowlist: ['gone.internal', '10.0.0.300', '8.8.8.8', 'public.example'],
      lookup: fakeLookup({ 'public.example': ['93.184.215.14'] }),
    })
    expect(policy.blacklistIPs).toEqual(subtractCidrs(DEFAULT_BLOCKED_CIDRS, []))
    expect(policy.opened).toEqual([])
    expect(policy.warnings).toEqual([
      'allowlist entry gone.internal did not resolve (ENOTFOUND); it opens no addresses',
      'allowlist entry ignored: 10.0.0.300 is not an IP address, CIDR or hostname',
      'allowlist entry 8.8.8.8/32 is not blocked by default; it opens nothing',
      'allowlist entry public.example resolves to 93.184.215.14/32, which is not blocked by default',
    ])
  })

  it('can open everything, leaving no IP flag to pass', async () => {
    const policy = await resolveTargetPolicy({ allowLoopback: true, allowlist: ['0.0.0.0/0', '::/0'], lookup: noLookup })
    expect(policy.blacklistIPs).toEqual([])
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
