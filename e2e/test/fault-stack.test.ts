// The fault suite's harness proves itself: the platform as separate processes on real parts
// (Temporal dev server with a database file, Postgres and S3 behind TCP proxies, the API and a
// runner as child processes, real k6), and every fault it can inject really happens and really
// ends: a cut service fails calls and a restored one answers them, a SIGKILLed API or Temporal
// comes back on the same address with its state.
import { readdir } from 'node:fs/promises'
import net from 'node:net'
import { Client, Connection } from '@temporalio/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { workflowIdFor } from '@stampede/shared/temporal'
import { startFaultStack, type FaultStack } from '../src/fault-stack.ts'
import { startTarget, type Target } from '../src/target.ts'
import { runFinished, waitUntil } from '../src/wait.ts'

let stack: FaultStack
let target: Target
/** The run the first test passes; later tests read it back through each fault. */
let runId: string

const t0 = Date.now()
const mark = (what: string) => console.log(`[fault-stack] ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`)

beforeAll(async () => {
  target = await startTarget()
  stack = await startFaultStack()
  mark(`stack up (api pid ${stack.apiPid}, runner pid ${stack.runnerPid('runner')}, temporal pid ${stack.temporal.pid} at ${stack.temporal.address})`)
})
afterAll(async () => {
  await stack?.stop()
  await target?.stop()
})
afterEach(async (ctx) => {
  if (!stack) return
  if (ctx.task.result?.state === 'fail') console.log(stack.allLogs())
  // A failed test must not leave the next one its fault.
  await stack.heal()
})

/** A 1-VU script hitting the target for about 2 s. */
const shortScript = () => `
  import http from 'k6/http'
  import { sleep } from 'k6'
  export const options = { vus: 1, duration: '2s' }
  export default function () {
    http.get('${target.url}/')
    sleep(0.1)
  }`

/** How a plain TCP connection to the address ends: connected, or the error code. */
function tcpConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    socket.setTimeout(5_000, () => {
      socket.destroy()
      resolve('timeout')
    })
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

/** An artifact fetched through the API (which reads it from S3): status, and bytes when 200. */
async function fetchLog(id: string): Promise<{ status: number; body?: string }> {
  const link = await stack.api.runs.artifactUrl.query({ runId: id, name: 'log' })
  const res = await fetch(link.url, { signal: AbortSignal.timeout(20_000) })
  return res.status === 200 ? { status: 200, body: await res.text() } : { status: res.status }
}

describe('the fault stack', () => {
  it('runs a short test end to end through the child processes', async () => {
    target.reset()
    const started = await stack.api.runs.start.mutate({ script: shortScript(), location: 'us-east' })
    runId = started.id
    const run = await runFinished(stack.api, runId)
    mark(`run ${runId} ${run.status} with ${run.metrics.httpReqs} requests`)
    expect(run.status).toBe('passed')
    expect(run.metrics.httpReqs).toBeGreaterThan(5)
    expect(target.count).toBe(run.metrics.httpReqs)
    // The result is recorded as soon as k6 ends; the artifacts are stored and attached after.
    const stored = await waitUntil('the run\'s artifacts', async () => {
      const r = await stack.api.runs.byId.query({ id: runId })
      return r.artifacts.log ? r : undefined
    }, 30_000, 200)
    expect(Object.keys(stored.artifacts).sort()).toEqual(['log', 'metrics', 'report', 'summary'])
    mark('artifacts attached')
  })

  it('cuts Postgres: runs.list fails; restored, it answers again', async () => {
    const before = await stack.api.runs.list.query({})
    expect(before.items.map((r) => r.id)).toContain(runId)
    expect(stack.db.connections).toBeGreaterThan(0)

    await stack.db.cut()
    expect(stack.db.connections).toBe(0)
    // Refused at once, as a server that is down refuses: no hanging connect.
    expect(await tcpConnect(stack.db.host, stack.db.port)).toBe('ECONNREFUSED')
    const error = await stack.api.runs.list.query({}).then(
      () => undefined,
      (err: unknown) => err as Error,
    )
    expect(error, 'runs.list while Postgres is cut').toBeInstanceOf(Error)
    mark(`Postgres cut: runs.list failed with "${error!.message}"`)

    await stack.db.restore()
    expect(await tcpConnect(stack.db.host, stack.db.port)).toBe('connected')
    const after = await waitUntil('runs.list after Postgres is restored', () => stack.api.runs.list.query({}), 30_000, 200)
    expect(after.items.map((r) => r.id)).toContain(runId)
    mark('Postgres restored: runs.list answers')
  })

  it('cuts S3: an artifact cannot be read; restored, it reads back the same bytes', async () => {
    const before = await fetchLog(runId)
    expect(before.status).toBe(200)

    await stack.s3.cut()
    const during = await fetchLog(runId)
    expect(during.status).toBeGreaterThanOrEqual(500)
    mark(`S3 cut: the log artifact answered ${during.status}`)

    await stack.s3.restore()
    const after = await waitUntil('the log artifact after S3 is restored', async () => {
      const got = await fetchLog(runId)
      return got.status === 200 ? got : undefined
    }, 30_000, 200)
    expect(after.body).toBe(before.body)
    mark('S3 restored: the log artifact reads back byte-identical')
  })

  it('SIGKILLs the API and starts it again: the same token still works', async () => {
    const pid = stack.apiPid
    await stack.killApi()
    expect(stack.apiPid).toBeUndefined()
    expect(stack.logs('api')).toMatch(new RegExp(`pid ${pid} exited: killed by SIGKILL`))
    await expect(fetch(`${stack.apiUrl}/healthz`)).rejects.toThrow()

    await stack.startApi()
    expect(stack.apiPid).toBeDefined()
    expect(stack.apiPid).not.toBe(pid)
    const run = await stack.api.runs.byId.query({ id: runId })
    expect(run.status).toBe('passed')
    // The signed-in session survives too (sessions live in Postgres).
    expect((await stack.admin.api.runs.byId.query({ id: runId })).id).toBe(runId)
    mark(`API killed (pid ${pid}) and started again (pid ${stack.apiPid}); token and session still work`)

    // A graceful stop (SIGTERM) ends it with exit code 0.
    const second = stack.apiPid
    await stack.stopApi()
    expect(stack.logs('api')).toMatch(new RegExp(`pid ${second} exited: exit code 0`))
    await stack.startApi()
    expect((await stack.api.runs.byId.query({ id: runId })).id).toBe(runId)
    mark('API stopped with SIGTERM (exit code 0) and started again')
  })

  it('SIGKILLs Temporal and restarts it on the same address: the earlier workflow still describes', async () => {
    const describe = async () => {
      const connection = await Connection.connect({ address: stack.temporal.address, connectTimeout: '3s' })
      try {
        const client = new Client({ connection, namespace: stack.temporal.namespace })
        return await client.workflow.getHandle(workflowIdFor(runId)).describe()
      } finally {
        await connection.close()
      }
    }
    // The workflow ends once the artifacts are attached and the runner released the run.
    const before = await waitUntil('the run\'s workflow to complete', async () => {
      const d = await describe()
      return d.status.name === 'RUNNING' ? undefined : d
    }, 30_000, 200)
    expect(before.status.name).toBe('COMPLETED')

    const pid = stack.temporal.pid
    await stack.killTemporal()
    expect(stack.temporal.pid).toBeUndefined()
    await expect(describe()).rejects.toThrow()
    mark(`Temporal killed (pid ${pid})`)

    await stack.restartTemporal()
    expect(stack.temporal.pid).not.toBe(pid)
    // A new connection right after the restart can take longer than describe()'s 3 s on a busy
    // machine (CI failed once with "Failed to connect before the deadline"): ask until it answers.
    const after = await waitUntil('the restarted Temporal to describe the workflow', () => describe(), 30_000, 200)
    expect(after.runId).toBe(before.runId)
    expect(after.status.name).toBe('COMPLETED')
    mark(`Temporal restarted (pid ${stack.temporal.pid}): workflow ${after.workflowId} still ${after.status.name}`)

    // The runner and the API found it again on their own: a new run passes.
    target.reset()
    const next = await runFinished(stack.api, (await stack.api.runs.start.mutate({ script: shortScript(), location: 'us-east' })).id)
    expect(next.status).toBe('passed')
    expect(target.count).toBe(next.metrics.httpReqs)
    mark(`a run after the Temporal restart ${next.status}`)
  })

  it('SIGKILLs the runner and starts it again on the same work directory: it takes runs again', async () => {
    const workDir = stack.runnerWorkDir('runner')
    // Its files (its identity among them; run directories come and go).
    const files = async () => (await readdir(workDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name)
    const kept = await files()
    const pid = stack.runnerPid('runner')
    await stack.killRunner('runner')
    expect(stack.runnerPid('runner')).toBeUndefined()
    expect(stack.logs('runner')).toMatch(new RegExp(`pid ${pid} exited: killed by SIGKILL`))

    await stack.startRunner('runner')
    expect(stack.runnerPid('runner')).not.toBe(pid)
    expect(stack.runnerWorkDir('runner')).toBe(workDir)
    expect(await files()).toEqual(expect.arrayContaining(kept))
    target.reset()
    const run = await runFinished(stack.api, (await stack.api.runs.start.mutate({ script: shortScript(), location: 'us-east' })).id)
    expect(run.status).toBe('passed')
    expect(target.count).toBe(run.metrics.httpReqs)
    mark(`runner killed (pid ${pid}) and started again (pid ${stack.runnerPid('runner')}); a run ${run.status}`)
  })

  it('starts a second runner on its own work directory and stops it with SIGTERM', async () => {
    // Location-only (no workflows), so it cannot take the orchestration from the first.
    await stack.startRunner('second', { RUNNER_ORCHESTRATION: 'false' })
    const pid = stack.runnerPid('second')
    expect(pid).toBeDefined()
    expect(stack.runnerWorkDir('second')).not.toBe(stack.runnerWorkDir('runner'))
    expect(stack.logs('second')).toMatch(/polling /)
    await stack.stopRunner('second')
    expect(stack.runnerPid('second')).toBeUndefined()
    expect(stack.logs('second')).toMatch(new RegExp(`pid ${pid} exited: exit code 0`))
    expect(stack.runnerPid('runner')).toBeDefined()
    mark(`a second runner (pid ${pid}) started and stopped with SIGTERM (exit code 0)`)
  })

  it('heals every fault at once, leaving a runner stopped on purpose stopped', async () => {
    await Promise.all([stack.db.cut(), stack.s3.cut(), stack.killApi()])
    await stack.heal()
    expect(stack.db.isCut).toBe(false)
    expect(stack.s3.isCut).toBe(false)
    expect(stack.apiPid).toBeDefined()
    expect((await stack.api.runs.list.query({})).items.map((r) => r.id)).toContain(runId)
    expect((await fetchLog(runId)).status).toBe(200)
    expect(stack.runnerPid('runner')).toBeDefined()
    expect(stack.runnerPid('second')).toBeUndefined()
    mark('healed: proxies restored, API started again, the stopped runner left alone')
  })
})
