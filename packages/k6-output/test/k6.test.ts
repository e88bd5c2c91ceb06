// Stampede's k6 end to end: the real binary from the tool cache (built from this module on first
// use) runs against a local server, and the frames it writes are merged and compared with k6's
// own end-of-test summary.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveTool } from '@stampede/tools'
import { mergeFrames, parseFrames, quantile, seriesKey } from '../src/frames.ts'
import type { Merged, MergedSeries } from '../src/frames.ts'
import { prng } from '../src/testing.ts'

let k6: string
let server: http.Server
let base: string
const dirs: string[] = []


beforeAll(async () => {
  k6 = (await resolveTool('k6')).path
  const random = prng(14)
  // Log-normal delays, median 45 ms, spread so that 1 ms and 2 s are about 3 sigma away;
  // clamped to [1 ms, 2 s].
  const delayMs = (): number => {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
    return Math.min(2000, Math.max(1, Math.exp(Math.log(45) + 1.27 * z)))
  }
  server = http.createServer((req, res) => {
    const reply = (): void => void res.end('ok')
    if (req.url?.startsWith('/delay')) setTimeout(reply, delayMs())
    else reply()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

interface K6Run {
  code: number | null
  output: string
  merged: Merged
  summary: { metrics: Record<string, Record<string, number>> }
}

async function runK6(script: string, env: Record<string, string> = {}): Promise<K6Run> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-k6-output-'))
  dirs.push(dir)
  await writeFile(path.join(dir, 'script.js'), script)
  const args = [
    'run',
    '--no-color',
    '--no-usage-report',
    '--out',
    'stampede=frames.ndjson',
    '--summary-export=summary.json',
    '--summary-trend-stats=avg,min,max,p(50),p(90),p(95),p(99)',
    '-e',
    `BASE=${base}`,
    'script.js',
  ]
  const child = spawn(k6, args, { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  const frames = parseFrames(await readFile(path.join(dir, 'frames.ndjson'), 'utf8'))
  expect(frames.length).toBeGreaterThan(0)
  expect(frames.at(-1)?.final).toBe(true)
  frames.forEach((f, i) => expect(f.seq).toBe(i))
  const summary = JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')) as K6Run['summary']
  return { code, output, merged: mergeFrames(frames), summary }
}

function total(merged: Merged, metric: string): MergedSeries {
  const s = merged.series.get(seriesKey({ metric }))
  if (!s) throw new Error(`no total series for ${metric}`)
  return s
}

describe("Stampede's k6 with the stampede output", () => {
  it('reports k6 v2.2.0 and lists the stampede output extension', async () => {
    const child = spawn(k6, ['version'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
    await new Promise((resolve) => child.on('close', resolve))
    expect(out).toMatch(/^k6 v2\.2\.0 /)
    // Not Stampede's build (e.g. K6_BIN_PATH set to a plain k6): the other tests cannot pass.
    expect(out, `${k6} is not Stampede's k6 build`).toMatch(/^\s+stampede\.local\/k6-output\S* .*, stampede \[output\]$/m)
  })

  it('merged frames give the summary\'s percentiles within 0.5 % and its counters exactly', async () => {
    const run = await runK6(`
import http from 'k6/http'
import { check } from 'k6'
export const options = { scenarios: { load: { executor: 'constant-vus', vus: 100, duration: '12s' } } }
export default function () {
  const res = http.get(\`\${__ENV.BASE}/delay\`)
  check(res, { 'status is 200': (r) => r.status === 200 })
}
`)
    expect(run.code, run.output).toBe(0)
    const { merged, summary } = run

    const duration = total(merged, 'http_req_duration')
    const expected = summary.metrics.http_req_duration ?? {}
    expect(duration.count).toBeGreaterThan(5000)
    // The spread the test is about: from about 1 ms to about 2 s.
    expect(duration.min).toBeLessThan(3)
    expect(duration.max).toBeGreaterThan(1000)
    const report: string[] = []
    for (const [q, stat] of [[0.5, 'p(50)'], [0.9, 'p(90)'], [0.95, 'p(95)'], [0.99, 'p(99)']] as const) {
      const want = expected[stat]
      const got = quantile(duration, merged.gamma, q)
      expect(want, stat).toBeTypeOf('number')
      expect(got, stat).toBeTypeOf('number')
      const error = Math.abs((got as number) - (want as number)) / (want as number)
      report.push(`${stat} summary ${want?.toFixed(3)} frames ${got?.toFixed(3)} (${(error * 100).toFixed(3)} %)`)
      expect(error, `${stat}: frames ${got}, summary ${want}`).toBeLessThanOrEqual(0.005)
    }
    console.info(`http_req_duration over ${duration.count} requests: ${report.join('; ')}`)
    expect(duration.min).toBe(expected.min)
    expect(duration.max).toBe(expected.max)

    // Counters and rates: exactly the summary's.
    expect(total(merged, 'http_reqs').sum).toBe(summary.metrics.http_reqs?.count)
    expect(total(merged, 'iterations').sum).toBe(summary.metrics.iterations?.count)
    expect(total(merged, 'data_received').sum).toBe(summary.metrics.data_received?.count)
    expect(total(merged, 'data_sent').sum).toBe(summary.metrics.data_sent?.count)
    const checks = total(merged, 'checks')
    expect(checks.passes).toBe(summary.metrics.checks?.passes)
    expect(checks.count - (checks.passes ?? 0)).toBe(summary.metrics.checks?.fails)

    // The tagged series add up to the total.
    const tagged = [...merged.series.values()].filter((s) => s.metric === 'http_reqs' && (s.tags || s.overflow))
    expect(tagged.reduce((n, s) => n + (s.sum ?? 0), 0)).toBe(summary.metrics.http_reqs?.count)
    expect(tagged.map((s) => s.tags)).toContainEqual({ scenario: 'load', group: '', name: `${base}/delay`, method: 'GET', status: '200', expected_response: 'true' })
  })

  it('5,000 distinct URLs without a name tag stay under the series cap, with one warning, and the run passes', async () => {
    const run = await runK6(`
import http from 'k6/http'
import exec from 'k6/execution'
export const options = { scenarios: { urls: { executor: 'shared-iterations', vus: 20, iterations: 5000, maxDuration: '60s' } } }
export default function () {
  http.get(\`\${__ENV.BASE}/u/\${exec.scenario.iterationInTest}\`)
}
`)
    expect(run.code, run.output).toBe(0)
    const warnings = run.output.split('\n').filter((l) => l.includes('tagged metric series'))
    expect(warnings, run.output).toHaveLength(1)
    expect(warnings[0]).toMatch(/level=warning/)
    expect(warnings[0]).toMatch(/more than 1000 tagged metric series/)

    const all = [...run.merged.series.values()]
    const taggedSeries = all.filter((s) => s.tags && !s.overflow)
    expect(taggedSeries.length).toBeLessThanOrEqual(1000)
    const reqs = all.filter((s) => s.metric === 'http_reqs')
    const overflow = reqs.find((s) => s.overflow)
    expect(overflow?.sum).toBeGreaterThan(0)
    expect(total(run.merged, 'http_reqs').sum).toBe(5000)
    expect(run.summary.metrics.http_reqs?.count).toBe(5000)
    expect(reqs.filter((s) => s.tags || s.overflow).reduce((n, s) => n + (s.sum ?? 0), 0)).toBe(5000)
  })

  it('honours K6_STAMPEDE_MAX_SERIES', async () => {
    const run = await runK6(
      `
import http from 'k6/http'
export const options = { iterations: 30 }
export default function () { http.get(\`\${__ENV.BASE}/u/\${__ITER}\`) }
`,
      { K6_STAMPEDE_MAX_SERIES: '5' },
    )
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/more than 5 tagged metric series/)
    expect([...run.merged.series.values()].filter((s) => s.tags && !s.overflow).length).toBeLessThanOrEqual(5)
    expect(total(run.merged, 'http_reqs').sum).toBe(30)
  })
})
