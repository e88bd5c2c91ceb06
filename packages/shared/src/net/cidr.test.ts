import { isIP } from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  containingCidr,
  contains,
  embedIPv4,
  formatCidr,
  formatIP,
  ipFamily,
  isNetwork,
  networkOf,
  overlaps,
  parseCidr,
  parseIP,
  subtractCidrs,
  toNetwork,
  unmapCidr,
  unmapIP,
} from './cidr.ts'
import type { Cidr } from './cidr.ts'

const cidr = (text: string): Cidr => {
  const parsed = parseCidr(text)
  if (!parsed.ok) throw new Error(`test CIDR ${text}: ${parsed.error}`)
  return parsed.cidr
}
const ip = (text: string) => {
  const parsed = parseIP(text)
  if (!parsed) throw new Error(`test address ${text}`)
  return parsed
}

describe('parseIP', () => {
  it('reads IPv4 and IPv6 addresses, the latter also with a trailing dotted quad', () => {
    expect(formatIP(ip('10.0.0.1'))).toBe('10.0.0.1')
    expect(formatIP(ip('FD00:EC2:0::253'))).toBe('fd00:ec2::253')
    expect(formatIP(ip('0:0:0:0:0:0:0:1'))).toBe('::1')
    expect(formatIP(ip('64:ff9b::10.1.2.3'))).toBe('64:ff9b::a01:203')
    expect(formatIP(ip('1:2:3:4:5:6:1.2.3.4'))).toBe('1:2:3:4:5:6:102:304')
    expect(formatIP(ip('::ffff:127.0.0.1'))).toBe('::ffff:7f00:1')
    expect(ipFamily('10.0.0.1')).toBe(4)
    expect(ipFamily('::ffff:127.0.0.1')).toBe(6)
  })

  it('refuses the loose IPv4 notations inet_aton (and ipaddr.js) would read: octal, hex, short, one number', () => {
    for (const text of ['0127.0.0.1', '010.0.0.1', '127.000.0.1', '127.1', '127.0.1', '0x7f.0.0.1', '0x7f000001', '2130706433', '10.0.0.256', '10.0.0.1.', ' 10.0.0.1']) {
      expect(parseIP(text), text).toBeUndefined()
    }
    for (const text of ['::ffff:0127.0.0.1', '::ffff:127.1', '::ffff:0x7f.0.0.1', '::0127.0.0.1']) expect(parseIP(text), text).toBeUndefined()
  })

  it('reads ::a.b.c.d as the IPv6 address ::a.b:c.d, not as IPv4-mapped (as Node and Go do)', () => {
    expect(formatIP(ip('::127.0.0.1'))).toBe('::7f00:1')
    expect(formatIP(unmapIP(ip('::127.0.0.1')))).toBe('::7f00:1')
  })

  it('refuses zone ids, which name an interface of one machine', () => {
    expect(parseIP('fe80::1%eth0')).toBeUndefined()
    expect(parseIP('::1%1')).toBeUndefined()
    expect(ipFamily('fe80::1%eth0')).toBe(0)
  })

  it("accepts exactly what Node's net.isIP accepts, less zone ids", () => {
    const tokens = ['0', '1', '01', '00', '127', '255', '256', '0127', '0x7f', 'ffff', 'FFFF', 'fffff', '64', 'ff9b', 'a', 'g', '.', '.', ':', ':', '::', '%', 'eth0', '1.2.3.4', '::ffff:', ' ']
    let seed = 7
    const next = (n: number) => {
      seed = (Math.imul(seed, 48271) >>> 0) % 0x7fffffff
      return seed % n
    }
    const samples = [
      ...Array.from({ length: 8_000 }, () => Array.from({ length: 1 + next(9) }, () => tokens[next(tokens.length)]).join('')),
      ...['::', ':::', '1:::2', '::1:', ':1::', '1::2::3', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1::3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4', 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', '1.2.3.4::', '1.2.3.4:5'],
    ]
    const differ = samples.filter((text) => ipFamily(text) !== (text.includes('%') ? 0 : isIP(text)))
    expect(differ).toEqual([])
    expect(samples.filter((text) => isIP(text) !== 0).length).toBeGreaterThan(100)
  }, 30_000)
})

describe('formatIP', () => {
  it('writes IPv6 as RFC 5952: lower case, the first longest run of two or more zero groups as ::, all hex', () => {
    expect(formatIP(ip('1:0:0:2:0:0:0:3'))).toBe('1:0:0:2::3')
    expect(formatIP(ip('1:0:0:2:0:0:3:4'))).toBe('1::2:0:0:3:4')
    expect(formatIP(ip('1:0:2:3:4:5:6:7'))).toBe('1:0:2:3:4:5:6:7')
    expect(formatIP(ip('0:0:0:0:0:0:0:0'))).toBe('::')
    expect(formatIP(ip('2002:A9FE:A9FE:0:0:0:0:0'))).toBe('2002:a9fe:a9fe::')
    expect(formatIP(ip('::ffff:169.254.169.254'))).toBe('::ffff:a9fe:a9fe')
  })
})

describe('parseCidr', () => {
  it('reads address/prefix, keeping bits set after the prefix and IPv4-mapped networks as IPv6', () => {
    expect(formatCidr(cidr('10.20.0.0/16'))).toBe('10.20.0.0/16')
    expect(formatCidr(cidr('10.1.2.3/8'))).toBe('10.1.2.3/8')
    expect(formatCidr(cidr('::ffff:10.0.0.0/104'))).toBe('::ffff:a00:0/104')
    expect(formatCidr(cidr('10.0.0.0/08'))).toBe('10.0.0.0/8')
  })

  it('says whether the address or the prefix is wrong', () => {
    expect(parseCidr('10.0.0.1/33')).toEqual({ ok: false, error: 'prefix', max: 32 })
    expect(parseCidr('fd00::/129')).toEqual({ ok: false, error: 'prefix', max: 128 })
    expect(parseCidr('10.0.0.0/')).toEqual({ ok: false, error: 'prefix', max: 32 })
    expect(parseCidr('10.0.0.0/0008')).toEqual({ ok: false, error: 'prefix', max: 32 })
    expect(parseCidr('10.0.0.0/-1')).toEqual({ ok: false, error: 'prefix', max: 32 })
    expect(parseCidr('db/8')).toEqual({ ok: false, error: 'address' })
    expect(parseCidr('10.0.0.0/8/8')).toEqual({ ok: false, error: 'address' })
    expect(parseCidr('0127.0.0.0/8')).toEqual({ ok: false, error: 'address' })
    expect(parseCidr('fe80::%eth0/64')).toEqual({ ok: false, error: 'address' })
  })
})

describe('networks', () => {
  it('reads IPv4-mapped networks of /96 and narrower as the IPv4 networks Go compares them as', () => {
    expect(formatCidr(unmapCidr(cidr('::ffff:10.0.0.0/104')))).toBe('10.0.0.0/8')
    expect(formatCidr(unmapCidr(cidr('::ffff:0:0/96')))).toBe('0.0.0.0/0')
    expect(formatCidr(unmapCidr(cidr('::ffff:0:0/95')))).toBe('::ffff:0:0/95')
    expect(formatCidr(unmapCidr(cidr('64:ff9b::a9fe:a9fe/128')))).toBe('64:ff9b::a9fe:a9fe/128')
  })

  it('clears the bits after the prefix', () => {
    expect(formatCidr(networkOf(cidr('10.1.2.3/8')))).toBe('10.0.0.0/8')
    expect(formatCidr(networkOf(cidr('10.1.2.3/0')))).toBe('0.0.0.0/0')
    expect(formatCidr(networkOf(cidr('fd00:ec2::254/32')))).toBe('fd00:ec2::/32')
    expect(formatCidr(networkOf(cidr('fd00:ec2::254/127')))).toBe('fd00:ec2::254/127')
    expect(isNetwork(cidr('10.0.0.0/8'))).toBe(true)
    expect(isNetwork(cidr('10.1.2.3/8'))).toBe(false)
    expect(isNetwork(cidr('10.1.2.3/32'))).toBe(true)
  })

  it('reads a CIDR or a single address as the network Go compares with, or throws', () => {
    expect(formatCidr(toNetwork('10.1.2.3'))).toBe('10.1.2.3/32')
    expect(formatCidr(toNetwork('fd00::1'))).toBe('fd00::1/128')
    expect(formatCidr(toNetwork('::ffff:10.1.2.3'))).toBe('10.1.2.3/32')
    expect(formatCidr(toNetwork('10.1.2.3/8'))).toBe('10.0.0.0/8')
    expect(() => toNetwork('10.0.0.0/33')).toThrow('not a CIDR: 10.0.0.0/33')
    expect(() => toNetwork('db.internal')).toThrow('not a CIDR: db.internal')
  })

  it('tells containment and overlap, never across families', () => {
    expect(contains(toNetwork('127.0.0.0/8'), toNetwork('127.77.0.0/16'))).toBe(true)
    expect(contains(toNetwork('127.77.0.0/16'), toNetwork('127.0.0.0/8'))).toBe(false)
    expect(overlaps(toNetwork('127.77.0.0/16'), toNetwork('127.0.0.0/8'))).toBe(true)
    expect(overlaps(toNetwork('127.76.0.0/15'), toNetwork('127.77.0.0/16'))).toBe(true)
    expect(overlaps(toNetwork('127.78.0.0/16'), toNetwork('127.77.0.0/16'))).toBe(false)
    expect(overlaps(toNetwork('0.0.0.0/0'), toNetwork('::/0'))).toBe(false)
    expect(overlaps(toNetwork('::ffff:127.77.0.1'), toNetwork('127.77.0.0/16'))).toBe(true)
  })

  it('embeds an IPv4 network after an IPv6 prefix (NAT64, 6to4)', () => {
    expect(embedIPv4('10.0.0.0/8', '64:ff9b::/96')).toBe('64:ff9b::a00:0/104')
    expect(embedIPv4('169.254.169.254/32', '64:ff9b::/96')).toBe('64:ff9b::a9fe:a9fe/128')
    expect(embedIPv4('10.0.0.0/8', '2002::/16')).toBe('2002:a00::/24')
    expect(embedIPv4('169.254.169.254/32', '2002::/16')).toBe('2002:a9fe:a9fe::/48')
    expect(embedIPv4('0.0.0.0/8', '2002::/16')).toBe('2002::/24')
    expect(() => embedIPv4('fd00::/8', '2002::/16')).toThrow('cannot embed fd00::/8 in 2002::/16')
    expect(() => embedIPv4('10.0.0.0/8', '2002::/12')).toThrow('cannot embed 10.0.0.0/8 in 2002::/12')
  })
})

describe('containingCidr', () => {
  const list = ['10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', 'fc00::/7', '64:ff9b::a9fe:0/112']
  it('finds the CIDR that holds an address, IPv4-mapped IPv6 counting as IPv4', () => {
    expect(containingCidr('127.0.0.1', list)).toBe('127.0.0.0/8')
    expect(containingCidr('::ffff:169.254.169.254', list)).toBe('169.254.0.0/16')
    expect(containingCidr('::FFFF:127.0.0.1', list)).toBe('127.0.0.0/8')
    expect(containingCidr('fd00::1', list)).toBe('fc00::/7')
    expect(containingCidr('64:ff9b::169.254.169.254', list)).toBe('64:ff9b::a9fe:0/112')
    expect(containingCidr('93.184.216.34', list)).toBeUndefined()
  })

  it('finds nothing for what is not an address the way Node reads one', () => {
    for (const text of ['not an ip', '0127.0.0.1', '127.1', '2130706433', 'fe80::1%eth0', '::127.0.0.1']) expect(containingCidr(text, list), text).toBeUndefined()
  })
})

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

