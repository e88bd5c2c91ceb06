// Target safety through the whole platform: a runner that is not in single-machine mode refuses
// loopback targets, also when the script's own options try to clear k6's block lists, until a
// project admin allowlists the address; the allowlist itself refuses cloud-metadata entries,
// networks too wide and the platform's reserved loopback range. Only a target on 127.0.0.1 that
// this test starts is aimed at; private ranges are exercised in
// apps/runner/test/target-safety.test.ts inside a network namespace with no route out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../src/stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { runFinished } from '../src/wait.ts'

let stack: Stack
let target: Target

beforeAll(async () => {
  target = await startTarget()
  stack = await startStack({ api: { ALLOW_LOOPBACK_TARGETS: 'false' }, runner: { ALLOW_LOOPBACK_TARGETS: 'false' } })
})
afterAll(async () => {
  await stack?.stop()
  await target?.stop()
})

const finished = (id: string) => runFinished(stack.api, id)

async function consoleText(runId: string): Promise<string> {
  const { url } = await stack.api.runs.artifactUrl.query({ runId, name: 'log' })
  return (await fetch(url)).text()
}

const script = (url: string, options = '') => `
  import http from 'k6/http'
  export const options = { vus: 1, iterations: 3${options} }
  export default function () { http.get('${url}/') }`

describe('target safety', () => {
  it('reports single-machine mode as off', async () => {
    expect((await stack.admin.api.auth.me.query()).loopbackTargetsAllowed).toBe(false)
  })

  it('refuses loopback by default, also when the script clears blacklistIPs, blockHostnames and maps a name with hosts', async () => {
    const port = new URL(target.url).port
    for (const s of [
      script(target.url),
      script(target.url, ', blacklistIPs: [], blockHostnames: []'),
      script(`http://target.example:${port}`, `, hosts: { 'target.example': '127.0.0.1' }, blacklistIPs: []`),
      script(`http://localhost:${port}`),
    ]) {
      target.reset()
      const run = await finished((await stack.api.runs.start.mutate({ script: s, location: 'us-east' })).id)
      expect(target.count).toBe(0)
      expect(run.metrics.httpReqFailedRate).toBe(1)
      expect(await consoleText(run.id)).toMatch(/is in a blacklisted range \(127\.0\.0\.0\/8\)/)
    }
  })

  it('reaches an address once an admin allowlists it, and nothing next to it', async () => {
    await stack.api.projects.update.mutate({ projectId: stack.projectId, allowlist: ['127.0.0.1'] })
    try {
      target.reset()
      const run = await finished((await stack.api.runs.start.mutate({ script: script(target.url), location: 'us-east' })).id)
      expect(run).toMatchObject({ status: 'passed', metrics: { httpReqs: 3 } })
      expect(target.count).toBe(3)

      const port = new URL(target.url).port
      const next = await finished((await stack.api.runs.start.mutate({ script: script(`http://127.0.0.2:${port}`), location: 'us-east' })).id)
      expect(next.metrics.httpReqFailedRate).toBe(1)
      expect(await consoleText(next.id)).toMatch(/IP \(127\.0\.0\.2\) is in a blacklisted range/)
    } finally {
      await stack.api.projects.update.mutate({ projectId: stack.projectId, allowlist: [] })
    }
  })
})

describe('the target allowlist', () => {
  const ordinary = ['10.1.2.3', '10.20.0.0/16', 'api.internal']
  const stored = ['10.1.2.3/32', '10.20.0.0/16', 'api.internal']
  const allowlistOf = async () => (await stack.api.projects.byId.query({ projectId: stack.projectId })).allowlist

  it('accepts ordinary entries, in canonical form', async () => {
    try {
      expect((await stack.api.projects.update.mutate({ projectId: stack.projectId, allowlist: ordinary })).allowlist).toEqual(stored)
      expect(await allowlistOf()).toEqual(stored)
    } finally {
      await stack.api.projects.update.mutate({ projectId: stack.projectId, allowlist: [] })
    }
  })

  it('refuses metadata, too-wide and platform entries with BAD_REQUEST, naming the entry and why, and stores nothing', async () => {
    const refused: [entry: string, why: RegExp][] = [
      ['169.254.169.254', /^allowlist\.3: 169\.254\.169\.254 is a cloud-metadata address, which is always blocked .*; it cannot be allowlisted$/],
      ['fd00:ec2::254', /^allowlist\.3: fd00:ec2::254 is a cloud-metadata address, which is always blocked .*; it cannot be allowlisted$/],
      ['metadata.google.internal', /^allowlist\.3: metadata\.google\.internal is a cloud-metadata service name, which is always blocked .*; it cannot be allowlisted$/],
      ['0.0.0.0/0', /^allowlist\.3: 0\.0\.0\.0\/0 is too wide: allowlist networks must be \/8 or narrower for IPv4 and \/32 or narrower for IPv6; list the networks your targets are in instead$/],
      ['::/0', /^allowlist\.3: ::\/0 is too wide: allowlist networks must be \/8 or narrower for IPv4 and \/32 or narrower for IPv6/],
      ['127.77.0.1', /^allowlist\.3: 127\.77\.0\.1 is in 127\.77\.0\.0\/16, which is reserved for Stampede's own services .*; it cannot be allowlisted\. Run the target on another address, such as 127\.0\.0\.1, and allowlist that$/],
      ['10.0.0.0/7', /^allowlist\.3: 10\.0\.0\.0\/7 is too wide: /],
    ]
    await stack.api.projects.update.mutate({ projectId: stack.projectId, allowlist: ordinary })
    try {
      for (const [entry, why] of refused) {
        // The entry comes after ordinary ones: none of them is stored either.
        const err = await stack.api.projects.update
          .mutate({ projectId: stack.projectId, allowlist: ['10.9.9.9', '10.30.0.0/16', 'other.internal', entry] })
          .then(() => undefined, (e: Error & { data?: { code?: string } }) => e)
        expect(err, entry).toBeDefined()
        expect(err?.data?.code, entry).toBe('BAD_REQUEST')
        expect(err?.message, entry).toMatch(why)
        expect(await allowlistOf(), entry).toEqual(stored)
      }
    } finally {
      await stack.api.projects.update.mutate({ projectId: stack.projectId, allowlist: [] })
    }
  })
})

describe("single-machine mode: the platform's own services stay out of reach", () => {
  let local: Stack
  beforeAll(async () => {
    local = await startStack()
  })
  afterAll(async () => {
    await local?.stop()
  })

  it('refuses the Temporal dev server and S3 of the stack, and reaches a target on 127.0.0.1', async () => {
    expect((await local.admin.api.auth.me.query()).loopbackTargetsAllowed).toBe(true)
    expect(local.servicesHost).toBe('127.77.0.1')
    const s3 = local.env.S3_ENDPOINT!
    const temporal = `http://${local.env.TEMPORAL_ADDRESS!}`
    expect(new URL(s3).hostname).toBe('127.77.0.1')
    expect(new URL(temporal).hostname).toBe('127.77.0.1')
    const s3ByName = `http://s3.test:${new URL(s3).port}`
    const source = `
      import http from 'k6/http'
      export const options = { vus: 1, iterations: 1, hosts: { 's3.test': '127.77.0.1' }, blacklistIPs: [] }
      export default function () {
        for (const url of ['${target.url}/', '${s3}/stampede', '${temporal}/', '${s3ByName}/stampede']) http.get(url, { timeout: '2s' })
      }`
    target.reset()
    const started = await local.api.runs.start.mutate({ script: source, location: 'us-east' })
    const run = await runFinished(local.api, started.id)
    expect(target.count).toBe(1)
    expect(run.metrics.httpReqFailedRate).toBe(0.75)
    const log = await (await fetch((await local.api.runs.artifactUrl.query({ runId: run.id, name: 'log' })).url)).text()
    expect(log.match(/IP \(127\.77\.0\.1\) is in a blacklisted range \(127\.77\.0\.0\/16\)/g)).toHaveLength(3)
  })
})
