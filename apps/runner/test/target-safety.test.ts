// The target policy against the real k6 binary, run with exactly the runner's arguments and
// environment. Loopback targets are this test's own HTTP servers; private and metadata
// addresses are only ever tried inside a network namespace with no route out, so a policy that
// failed open could still not send a packet anywhere.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { k6EntryPath, TEST_DIR } from '@stampede/sandbox'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveTool } from '@stampede/tools'
import { k6Args, k6Env } from '../src/k6/command.ts'
import { runBareK6 } from './bare-k6.ts'
import { PLATFORM_LOOPBACK_HOST, resolveTargetPolicy } from '@stampede/shared/targets'
import type { Lookup, TargetPolicyInput } from '@stampede/shared/targets'

const K6_DEADLINE_MS = 20_000

interface Target {
  url: string
  requests: number
}

let k6Path = ''
const servers: Server[] = []

async function startTarget(host: string): Promise<Target> {
  const target = { url: '', requests: 0 }
  const server = createServer((_req, res) => {
    target.requests++
    res.end('ok')
  })
  servers.push(server)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  target.url = `http://${host}:${(server.address() as AddressInfo).port}`
  return target
}

/** One VU, one iteration: each URL is fetched once and its status logged as `result <url> <status>`. */
function script(urls: string[], options: Record<string, unknown> = {}): string {
  return `
import http from 'k6/http'
export const options = ${JSON.stringify({ vus: 1, iterations: 1, ...options })}
export default function () {
  for (const url of ${JSON.stringify(urls)}) {
    const res = http.get(url, { timeout: '2s' })
    console.log('result ' + url + ' ' + res.status)
  }
}`
}

interface K6Result {
  code: number | null
  output: string
  /** The HTTP status k6 got for a URL (0 when the request failed). */
  status(url: string): number
  /** k6's "Request Failed" warning for a URL, with the reason; '' when it did not fail. */
  failure(url: string): string
}

async function runK6(source: string, policy: TargetPolicyInput, netns?: string): Promise<K6Result> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-target-safety-'))
  try {
    await mkdir(path.join(dir, TEST_DIR))
    await writeFile(path.join(dir, k6EntryPath('script.js')), source)
    const { blacklistIPs, blockHostnames } = await resolveTargetPolicy(policy)
    const args = k6Args('script.js', { blacklistIPs, blockHostnames })
    const [command, argv] = netns ? ['ip', ['netns', 'exec', netns, k6Path, ...args]] : [k6Path, args]
    const { code, output } = await runBareK6(command, argv, { dir, env: k6Env(dir), deadlineMs: K6_DEADLINE_MS })
    const lines = output.split('\n')
    const status = (url: string) => {
      const match = lines.map((l) => l.match(/result (\S+) (\d+)/)).find((m) => m?.[1] === url)
      if (!match) throw new Error(`k6 logged no result for ${url}:\n${output}`)
      return Number(match[2])
    }
    const failure = (url: string) => lines.find((l) => l.includes('Request Failed') && l.includes(`Get \\"${url}\\"`)) ?? ''
    return { code, output, status, failure }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const DEFAULT_POLICY: TargetPolicyInput = { allowLoopback: false, allowlist: [] }

beforeAll(async () => {
  k6Path = (await resolveTool('k6', { allowBuild: false, log: () => {} })).path
})

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
})

describe('k6 with the target policy, against loopback targets', () => {
  let target: Target
  let other: Target
  beforeAll(async () => {
    target = await startTarget('127.0.0.1')
    other = await startTarget('127.0.0.2')
  })

  it('refuses loopback by default', async () => {
    const before = target.requests
    const url = `${target.url}/`
    const run = await runK6(script([url]), DEFAULT_POLICY)
    expect(run.code).toBe(0)
    expect(run.status(url)).toBe(0)
    expect(run.failure(url)).toContain('IP (127.0.0.1) is in a blacklisted range (127.0.0.0/8)')
    expect(target.requests).toBe(before)
  })

  it("refuses loopback when the script's options clear both lists", async () => {
    const before = target.requests
    const url = `${target.url}/`
    const run = await runK6(script([url], { blacklistIPs: [], blockHostnames: [] }), DEFAULT_POLICY)
    expect(run.status(url)).toBe(0)
    expect(run.failure(url)).toContain('IP (127.0.0.1) is in a blacklisted range (127.0.0.0/8)')
    expect(target.requests).toBe(before)
  })

  it('refuses loopback reached through a name: the hosts option, localhost, an IPv4-mapped address', async () => {
    const before = target.requests
    const { port } = new URL(target.url)
    const urls = [`http://internal.test:${port}/`, `http://localhost:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]
    const run = await runK6(script(urls, { hosts: { 'internal.test': '127.0.0.1' }, blacklistIPs: [] }), DEFAULT_POLICY)
    for (const url of urls) {
      expect(run.status(url)).toBe(0)
      expect(run.failure(url)).toMatch(/IP \((127\.0\.0\.1|::1)\) is in a blacklisted range/)
    }
    expect(target.requests).toBe(before)
  })

  it('lets requests through to loopback in embedded single-machine mode', async () => {
    const before = target.requests
    const url = `${target.url}/`
    const run = await runK6(script([url]), { allowLoopback: true, allowlist: [] })
    expect(run.status(url)).toBe(200)
    expect(target.requests).toBe(before + 1)
  })

  it('opens an allowlisted address and nothing next to it', async () => {
    const [before, otherBefore] = [target.requests, other.requests]
    const [url, otherUrl] = [`${target.url}/`, `${other.url}/`]
    const run = await runK6(script([url, otherUrl]), { allowLoopback: false, allowlist: ['127.0.0.1'] })
    expect(run.status(url)).toBe(200)
    expect(run.status(otherUrl)).toBe(0)
    expect(run.failure(otherUrl)).toContain('IP (127.0.0.2) is in a blacklisted range (127.0.0.2/31)')
    expect(target.requests).toBe(before + 1)
    expect(other.requests).toBe(otherBefore)
  })

  it('opens the addresses an allowlisted hostname resolves to', async () => {
    const before = target.requests
    const url = `http://localhost:${new URL(target.url).port}/`
    const run = await runK6(script([url]), { allowLoopback: false, allowlist: ['localhost'] })
    expect(run.status(url)).toBe(200)
    expect(target.requests).toBe(before + 1)
  })
})

// The platform's own services (Temporal, S3, Postgres in single-machine mode) listen in the
// reserved range 127.77.0.0/16: k6 never reaches it, even where loopback is allowed. A server of
// this test on 127.77.0.1 stands in for them.
describe("k6 with the target policy, against the platform's reserved loopback range", () => {
  const SINGLE_MACHINE: TargetPolicyInput = { allowLoopback: true, allowlist: [] }
  const refusal = 'IP (127.77.0.1) is in a blacklisted range (127.77.0.0/16)'
  let platform: Target
  let demo: Target
  beforeAll(async () => {
    platform = await startTarget(PLATFORM_LOOPBACK_HOST)
    demo = await startTarget('127.0.0.1')
  })

  /** Runs k6 on the platform's URL and the demo target's, and checks who was reached. */
  async function expectPlatformRefused(platformUrl: string, options: Record<string, unknown>, policy: TargetPolicyInput): Promise<void> {
    const [platformBefore, demoBefore] = [platform.requests, demo.requests]
    const demoUrl = `${demo.url}/`
    const run = await runK6(script([platformUrl, demoUrl], options), policy)
    expect(run.code).toBe(0)
    expect(run.status(platformUrl)).toBe(0)
    expect(run.failure(platformUrl)).toContain(refusal)
    expect(run.status(demoUrl)).toBe(200)
    expect(platform.requests).toBe(platformBefore)
    expect(demo.requests).toBe(demoBefore + 1)
  }

  it('refuses it in single-machine mode, while 127.0.0.1 is reached', async () => {
    await expectPlatformRefused(`${platform.url}/`, {}, SINGLE_MACHINE)
  })

  it('refuses it when an old stored allowlist covers it', async () => {
    // Entries projects.update refuses today, as an older row may still hold them.
    const allowlist = ['127.77.0.1', '127.77.0.0/16', '127.0.0.0/8', '0.0.0.0/0', '::ffff:0:0/96']
    await expectPlatformRefused(`${platform.url}/`, {}, { allowLoopback: true, allowlist })
  })

  it("refuses it through a script's hosts mapping, also when the script clears its block lists", async () => {
    const { port } = new URL(platform.url)
    const url = `http://temporal.test:${port}/`
    await expectPlatformRefused(url, { hosts: { 'temporal.test': PLATFORM_LOOPBACK_HOST }, blacklistIPs: [], blockHostnames: [] }, SINGLE_MACHINE)
  })

  it('refuses it when an allowlisted hostname resolves to it', async () => {
    const { port } = new URL(platform.url)
    const url = `http://platform.test:${port}/`
    const lookup: Lookup = async (hostname) => (hostname === 'platform.test' ? [{ address: PLATFORM_LOOPBACK_HOST, family: 4 }] : [])
    await expectPlatformRefused(url, { hosts: { 'platform.test': PLATFORM_LOOPBACK_HOST } }, { allowLoopback: true, allowlist: ['platform.test'], lookup })
  })
})

// Creating a network namespace needs CAP_SYS_ADMIN: without root these cannot run, and private
// or metadata addresses are never tried outside such a namespace.
const notRoot = process.getuid?.() !== 0

describe('k6 with the target policy, against private and metadata addresses in a sealed namespace', () => {
  const netns = `stampede-${randomBytes(4).toString('hex')}`
  const [privateUrl, metadataIpUrl, metadataNameUrl] = ['http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/', 'http://metadata.google.internal/']

  beforeAll(async () => {
    if (notRoot) return
    await ip('netns', 'add', netns)
    await ip('netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up')
  })
  afterAll(async () => {
    if (!notRoot) await ip('netns', 'delete', netns)
  })

  it.skipIf(notRoot)('refuses private, link-local and metadata targets by default, whatever the script says', async () => {
    const urls = [privateUrl, metadataIpUrl, metadataNameUrl]
    const run = await runK6(script(urls, { blacklistIPs: [], blockHostnames: [] }), DEFAULT_POLICY, netns)
    for (const url of urls) expect(run.status(url)).toBe(0)
    expect(run.failure(privateUrl)).toContain('IP (10.0.0.1) is in a blacklisted range (10.0.0.0/8)')
    expect(run.failure(metadataIpUrl)).toContain('IP (169.254.169.254) is in a blacklisted range (169.254.0.0/16)')
    expect(run.failure(metadataNameUrl)).toContain('hostname (metadata.google.internal) is in a blocked pattern (metadata.google.internal)')
  })

  it.skipIf(notRoot)('refuses private and metadata addresses written as NAT64 or 6to4 IPv6 addresses', async () => {
    // 169.254.169.254 under NAT64's well-known prefix, 10.0.0.1 under 6to4; 8.8.8.8 under NAT64 is
    // public, so k6 tries it and only the sealed namespace's missing route stops it.
    const [nat64Metadata, sixToFourPrivate, nat64Public] = ['http://[64:ff9b::a9fe:a9fe]/', 'http://[2002:a00:1::1]/', 'http://[64:ff9b::808:808]/']
    const run = await runK6(script([nat64Metadata, sixToFourPrivate, nat64Public]), DEFAULT_POLICY, netns)
    expect(run.failure(nat64Metadata)).toContain('IP (64:ff9b::a9fe:a9fe) is in a blacklisted range (64:ff9b::a9fe:0/112)')
    expect(run.failure(sixToFourPrivate)).toContain('IP (2002:a00:1::1) is in a blacklisted range (2002:a00::/24)')
    expect(run.failure(nat64Public)).toContain('network is unreachable')
    expect(run.failure(nat64Public)).not.toContain('blacklisted')
  })

  it.skipIf(notRoot)('opens an allowlisted private address: k6 tries to connect, and only the missing route stops it', async () => {
    const run = await runK6(script([privateUrl, metadataIpUrl]), { allowLoopback: false, allowlist: ['10.0.0.1'] }, netns)
    expect(run.failure(privateUrl)).toContain('dial tcp 10.0.0.1:80: connect: network is unreachable')
    expect(run.failure(privateUrl)).not.toContain('blacklisted')
    expect(run.failure(metadataIpUrl)).toContain('IP (169.254.169.254) is in a blacklisted range (169.254.0.0/16)')
  })

  it.skipIf(notRoot)('keeps the metadata address blocked under an old allowlist covering it and a name resolving to it', async () => {
    // 169.254.0.0/16 is refused today (it holds the metadata address); an old row may still have
    // it. meta.test resolves to the metadata address and to a neighbour, which alone is opened.
    const lookup: Lookup = async (hostname) => (hostname === 'meta.test' ? ['169.254.169.254', '169.254.1.1'].map((address) => ({ address, family: 4 })) : [])
    const [byName, neighbour] = ['http://meta.test/latest/meta-data/', 'http://169.254.1.1/']
    const run = await runK6(script([metadataIpUrl, byName, neighbour], { hosts: { 'meta.test': '169.254.169.254' }, blacklistIPs: [] }), { allowLoopback: true, allowlist: ['169.254.0.0/16', 'meta.test'], lookup }, netns)
    expect(run.failure(metadataIpUrl)).toMatch(/IP \(169\.254\.169\.254\) is in a blacklisted range/)
    expect(run.failure(byName)).toMatch(/IP \(169\.254\.169\.254\) is in a blacklisted range/)
    expect(run.failure(neighbour)).toContain('network is unreachable')
    expect(run.failure(neighbour)).not.toContain('blacklisted')
  })
})

async function ip(...args: string[]): Promise<void> {
  const child = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  if (code !== 0) throw new Error(`ip ${args.join(' ')} exited ${code}: ${stderr}`)
}
