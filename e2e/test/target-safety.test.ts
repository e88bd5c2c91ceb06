// Target safety through the whole platform: a runner that is not in single-machine mode refuses
// loopback targets, also when the script's own options try to clear k6's block lists, until a
// project admin allowlists the address. Only a target on 127.0.0.1 that this test starts is
// aimed at; private ranges are exercised in apps/runner/test/target-safety.test.ts inside a
// network namespace with no route out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../src/stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { waitUntil } from '../src/wait.ts'

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

const finished = (id: string) =>
  waitUntil(`run ${id} to finish`, async () => {
    const run = await stack.api.runs.byId.query({ id })
    return ['queued', 'running'].includes(run.status) ? undefined : run
  }, 90_000, 200)

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
