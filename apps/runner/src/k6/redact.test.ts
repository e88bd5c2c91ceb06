import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { k6EntryPath, TEST_DIR } from '@stampede/sandbox'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveTargetPolicy } from '@stampede/shared/targets'
import { resolveTool } from '@stampede/tools'
import { runBareK6 } from '../../test/bare-k6.ts'
import { k6Args, k6Env, OUTPUT_FILES } from './command.ts'
import { packFrames } from './spool.ts'
import { decodeReportData, NOT_STORED, parseReport, redactArtifacts, redactJson, REPORT_DATA_TAG, SECRET_MASK, secretRedactor, type Redact, type RedactArtifactsOptions } from './redact.ts'

describe('secretRedactor', () => {
  it('masks every occurrence of every secret, longest first', () => {
    const redact = secretRedactor(['s3cr3t-token', 's3cr3t'])
    expect(redact('token=s3cr3t-token and s3cr3t and s3cr3t-token')).toBe('token=[secret] and [secret] and [secret]')
    expect(redact('nothing here')).toBe('nothing here')
  })

  it('masks URL-encoded, base64 and JSON-escaped forms of values of 4+ characters', () => {
    const v = 'p@ss w/rd"?'
    const redact = secretRedactor([v])
    expect(redact(`q=${encodeURIComponent(v)}`)).toBe('q=[secret]')
    expect(redact(`b64 ${Buffer.from(v).toString('base64')}`)).toBe('b64 [secret]')
    expect(redact(`json ${JSON.stringify({ v })}`)).toBe('json {"v":"[secret]"}')
  })

  it('masks a value as Go\'s JSON encoder writes it (&, < and > as \\u escapes)', () => {
    const redact = secretRedactor(['a&b<c>"d'])
    expect(redact('{"tag":"x a\\u0026b\\u003cc\\u003e\\"d y"}')).toBe('{"tag":"x [secret] y"}')
  })

  it('ignores empty values and returns text unchanged without secrets', () => {
    expect(secretRedactor(['']).call(null, 'abc')).toBe('abc')
    expect(secretRedactor([])('abc')).toBe('abc')
    expect(secretRedactor(['']).needles).toEqual([])
  })

  it('redacts strings and keys inside JSON values', () => {
    const redact = secretRedactor(['hunter22'])
    expect(redactJson({ checks: { 'token hunter22 ok': { passes: 1, note: 'x hunter22' } }, n: 1 }, redact)).toEqual({
      checks: { 'token [secret] ok': { passes: 1, note: 'x [secret]' } },
      n: 1,
    })
  })
})

// The artifacts of one real k6 v2.2.0 run, made with the runner's own arguments and environment,
// whose script puts two secrets into a check name, a group name, tags, a URL query and a metric
// name. The second secret holds characters that k6 escapes in JSON and URLs.
const TOKEN = `tok_${randomBytes(12).toString('hex')}`
const PASSWORD = `p@ss w/rd"&<${randomBytes(6).toString('hex')}>`
const SECRETS = [TOKEN, PASSWORD]
/** What k6 wrote: the metric frames still plain (the runner packs them, masked, once k6 ended). */
const ARTIFACT_FILES = [OUTPUT_FILES.summary, OUTPUT_FILES.report, OUTPUT_FILES.frames, OUTPUT_FILES.samples]
const K6_DEADLINE_MS = 30_000

let root = ''
let rawDir = ''
let server: Server | undefined
let requests = 0

async function runK6(dir: string, script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const k6 = (await resolveTool('k6', { allowBuild: false, log: () => {} })).path
  await mkdir(path.join(dir, TEST_DIR), { recursive: true })
  await writeFile(path.join(dir, k6EntryPath('script.js')), script)
  const policy = await resolveTargetPolicy({ allowLoopback: true, allowlist: [] })
  return runBareK6(k6, k6Args('script.js', policy, { rawSamples: true }), { dir, env: k6Env(dir, env), deadlineMs: K6_DEADLINE_MS })
}

/**
 * As the runner does once k6 ended: the frames are masked and gzipped into the `metrics` artifact
 * (packFrames), then the other artifacts are masked (redactArtifacts).
 */
async function finishLikeTheRunner(dir: string, redactor: Redact, opts: RedactArtifactsOptions = {}): Promise<string[]> {
  await packFrames(dir, redactor)
  return redactArtifacts(dir, redactor, opts)
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'stampede-redact-'))
  rawDir = path.join(root, 'raw')
  await mkdir(rawDir)
  server = createServer((_req, res) => {
    requests++
    res.end('ok')
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  // Three seconds: k6 writes the HTML report only after at least two dashboard periods (1 s each).
  const script = `
import http from 'k6/http'
import { check, group, sleep } from 'k6'
import { Counter } from 'k6/metrics'
const custom = new Counter(__ENV.API_TOKEN)
export const options = { vus: 1, duration: '3s' }
export default function () {
  group('group ' + __ENV.API_TOKEN, () => {
    const res = http.get('${target}/items?token=' + __ENV.API_TOKEN + '&pw=' + encodeURIComponent(__ENV.PASSWORD), {
      tags: { tenant: 'tag ' + __ENV.API_TOKEN, note: __ENV.PASSWORD },
    })
    check(res, { ['status ok for ' + __ENV.API_TOKEN]: (r) => r.status === 200 })
  })
  custom.add(1, { kind: 'custom ' + __ENV.PASSWORD })
  sleep(0.02)
}`
  const run = await runK6(rawDir, script, { API_TOKEN: TOKEN, PASSWORD })
  if (run.code !== 0) throw new Error(`k6 exited with ${run.code}:\n${run.output}`)
  expect(requests).toBeGreaterThan(10)
}, 60_000)

afterAll(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  if (root) await rm(root, { recursive: true, force: true })
})

/** A fresh copy of the raw artifacts, to mask. */
async function copyOfRun(): Promise<string> {
  const dir = await mkdtemp(path.join(root, 'run-'))
  for (const file of ARTIFACT_FILES) await copyFile(path.join(rawDir, file), path.join(dir, file))
  return dir
}

/** The report's embedded data decoded the way the report page itself does it in a browser. */
async function decodeLikeTheBrowser(html: string): Promise<string> {
  const start = html.indexOf(REPORT_DATA_TAG)
  expect(start).toBeGreaterThanOrEqual(0)
  const innerText = html.slice(start + REPORT_DATA_TAG.length, html.indexOf('</script>', start))
  const bytes = Uint8Array.from(atob(innerText.trim()), (c) => c.codePointAt(0)!)
  let text = ''
  for await (const part of new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip')).pipeThrough(new TextDecoderStream())) text += part
  return text
}

/** Every string (keys included) in the NDJSON text, parsed: what a reader of the file gets. */
function parsedStrings(ndjson: string): string[] {
  const out: string[] = []
  const walk = (value: unknown): void => {
    if (typeof value === 'string') out.push(value)
    else if (Array.isArray(value)) value.forEach(walk)
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        out.push(k)
        walk(v)
      }
    }
  }
  for (const line of ndjson.split('\n')) if (line !== '') walk(JSON.parse(line))
  return out
}

const redact = secretRedactor(SECRETS)

/** Whether any secret, in any form the redactor masks, is in the text or in the strings it holds as JSON. */
function leaks(text: string, json?: 'ndjson' | 'json'): string[] {
  const strings = json === 'ndjson' ? parsedStrings(text) : json === 'json' ? parsedStrings(JSON.stringify(JSON.parse(text))) : []
  return redact.needles.filter((n) => text.includes(n) || strings.some((s) => s.includes(n)))
}

async function artifacts(dir: string) {
  const html = await readFile(path.join(dir, OUTPUT_FILES.report), 'utf8')
  return {
    summary: await readFile(path.join(dir, OUTPUT_FILES.summary), 'utf8'),
    html,
    report: await decodeLikeTheBrowser(html),
    // The frames packed (gzipped) when they were, else as k6 wrote them.
    metrics: existsSync(path.join(dir, OUTPUT_FILES.metrics))
      ? gunzipSync(await readFile(path.join(dir, OUTPUT_FILES.metrics))).toString('utf8')
      : await readFile(path.join(dir, OUTPUT_FILES.frames), 'utf8'),
    samples: gunzipSync(await readFile(path.join(dir, OUTPUT_FILES.samples))).toString('utf8'),
  }
}

describe('packFrames and redactArtifacts on a real k6 run', () => {
  it('starts from artifacts that carry the secrets, the report in the format this code knows', async () => {
    const raw = await artifacts(rawDir)
    expect(raw.summary).toContain(`status ok for ${TOKEN}`)
    // The report keeps its data gzipped and base64-encoded: the page's text never shows the secret.
    expect(raw.html).not.toContain(TOKEN)
    const parsed = parseReport(raw.html)
    expect(parsed).toBeDefined()
    expect(await decodeReportData(parsed!.base64)).toBe(raw.report)
    expect(raw.report).toContain(`group:::group ${TOKEN}`)
    expect(raw.report).toContain(`"${TOKEN}":{"type":"counter"`)
    const sampleStrings = parsedStrings(raw.samples)
    for (const expected of [`status ok for ${TOKEN}`, `::group ${TOKEN}`, `tag ${TOKEN}`, `token=${TOKEN}&pw=${encodeURIComponent(PASSWORD)}`, PASSWORD, `custom ${PASSWORD}`, TOKEN]) {
      expect(sampleStrings, expected).toContain(sampleStrings.find((s) => s.endsWith(expected)))
    }
    expect(leaks(raw.samples, 'ndjson')).toEqual(expect.arrayContaining([TOKEN, PASSWORD, encodeURIComponent(PASSWORD)]))
    // The frames keep the check, group and request name tags and the metric names.
    const frameStrings = parsedStrings(raw.metrics)
    for (const expected of [`status ok for ${TOKEN}`, `::group ${TOKEN}`, `token=${TOKEN}&pw=${encodeURIComponent(PASSWORD)}`, TOKEN]) {
      expect(frameStrings, expected).toContain(frameStrings.find((s) => s.endsWith(expected)))
    }
  })

  it('masks the secrets in the summary, the report (page and embedded data) and the metrics, keeping them readable', async () => {
    const dir = await copyOfRun()
    const raw = await artifacts(rawDir)
    const logged: string[] = []
    expect(await finishLikeTheRunner(dir, redact, { log: (m) => logged.push(m) })).toEqual([])
    // The frames were masked as they were packed: redactArtifacts checks the three other files.
    expect(logged).toHaveLength(3)
    expect(logged.some((m) => m.startsWith(OUTPUT_FILES.metrics))).toBe(false)
    expect(await readdir(dir)).not.toContain(OUTPUT_FILES.frames)
    const masked = await artifacts(dir)

    expect(leaks(masked.summary, 'json')).toEqual([])
    expect(masked.summary).toContain(`status ok for ${SECRET_MASK}`)

    // The page around the data is k6's byte for byte; the data decodes as the browser decodes it.
    const [before, after] = [parseReport(raw.html)!, parseReport(masked.html)!]
    expect(after).toBeDefined()
    expect({ ...after, base64: '' }).toEqual({ ...before, base64: '' })
    expect(masked.html.startsWith('<!doctype html>')).toBe(true)
    expect(masked.html.trimEnd().endsWith('</html>')).toBe(true)
    expect(leaks(masked.html)).toEqual([])
    expect(leaks(masked.report, 'ndjson')).toEqual([])
    expect(masked.report).toContain(`group:::group ${SECRET_MASK}`)
    expect(masked.report.split('\n').map((l) => (l === '' ? '' : (JSON.parse(l) as { event: string }).event))).toEqual(
      raw.report.split('\n').map((l) => (l === '' ? '' : (JSON.parse(l) as { event: string }).event)),
    )

    // Every samples line is still JSON, none is lost, and the secrets are gone from all of them.
    const lines = masked.samples.split('\n')
    expect(lines.length).toBe(raw.samples.split('\n').length)
    for (const line of lines) if (line !== '') JSON.parse(line)
    expect(leaks(masked.samples, 'ndjson')).toEqual([])
    expect(parsedStrings(masked.samples)).toContain(`tag ${SECRET_MASK}`)
    expect(parsedStrings(masked.samples)).toContain(SECRET_MASK)

    // So with the frames: every frame still parses, and none holds a secret.
    const frames = masked.metrics.split('\n')
    expect(frames.length).toBe(raw.metrics.split('\n').length)
    for (const line of frames) if (line !== '') JSON.parse(line)
    expect(leaks(masked.metrics, 'ndjson')).toEqual([])
    expect(parsedStrings(masked.metrics)).toContain(`status ok for ${SECRET_MASK}`)
  })

  it('masks a secret in the page around the report data', async () => {
    const dir = await copyOfRun()
    const file = path.join(dir, OUTPUT_FILES.report)
    await writeFile(file, (await readFile(file, 'utf8')).replace('<head>', `<head><!-- ${TOKEN} -->`))
    expect(await redactArtifacts(dir, redact)).toEqual([])
    const html = await readFile(file, 'utf8')
    expect(html).toContain(`<head><!-- ${SECRET_MASK} -->`)
    expect(leaks(html)).toEqual([])
    expect(leaks(await decodeLikeTheBrowser(html), 'ndjson')).toEqual([])
  })

  it.each([
    ['the data element has another encoding', (html: string) => html.replace('gzip; base64', 'zstd; base64')],
    ['the data is not base64', (html: string) => html.replace(REPORT_DATA_TAG, `${REPORT_DATA_TAG}!`)],
    ['the data is not gzip', (html: string) => html.replace(parseReport(html)!.base64, Buffer.from('{"event":"x","data":1}').toString('base64'))],
    ['the data is not k6 events', (html: string) => html.replace(parseReport(html)!.base64, gzipSync('not json\n').toString('base64'))],
    ['the page holds a second data island', (html: string) => html.replace('</body>', `<script type="application/json">{"t":"${TOKEN}"}</script></body>`)],
  ])('removes a report it cannot check (%s) and says so', async (_what, change) => {
    const dir = await copyOfRun()
    const file = path.join(dir, OUTPUT_FILES.report)
    await writeFile(file, change(await readFile(file, 'utf8')))
    expect(await finishLikeTheRunner(dir, redact)).toEqual([NOT_STORED.report])
    expect((await readdir(dir)).sort()).toEqual([OUTPUT_FILES.metrics, OUTPUT_FILES.samples, OUTPUT_FILES.summary].sort())
  })

  it('removes a samples file that is not gzip and says so', async () => {
    const dir = await copyOfRun()
    await writeFile(path.join(dir, OUTPUT_FILES.samples), `{"metric":"x","data":{"tags":{"t":"${TOKEN}"}}}\n`)
    expect(await finishLikeTheRunner(dir, redact)).toEqual([NOT_STORED.samples])
    expect((await readdir(dir)).sort()).toEqual([OUTPUT_FILES.metrics, OUTPUT_FILES.report, OUTPUT_FILES.summary].sort())
  })

  it('removes a samples file it failed to rewrite and says so', async () => {
    const dir = await copyOfRun()
    // The masked copy cannot be created: its name is taken.
    await mkdir(path.join(dir, `.${OUTPUT_FILES.samples}.masking`))
    expect(await finishLikeTheRunner(dir, redact)).toEqual([NOT_STORED.failed(OUTPUT_FILES.samples)])
    expect(await readdir(dir)).not.toContain(OUTPUT_FILES.samples)
  })

  it('leaves no packed frames behind when packing them fails', async () => {
    const dir = await copyOfRun()
    // The frames' packed file cannot be written: its name is taken by a directory's contents.
    await mkdir(path.join(dir, OUTPUT_FILES.metrics))
    await writeFile(path.join(dir, OUTPUT_FILES.metrics, 'x'), '')
    await expect(packFrames(dir, redact)).rejects.toThrow()
    expect(await readdir(dir)).toContain(OUTPUT_FILES.frames)
  })

  it('masks what a cut-off samples file holds and keeps it readable', async () => {
    const dir = await copyOfRun()
    const file = path.join(dir, OUTPUT_FILES.samples)
    const whole = await readFile(file)
    await writeFile(file, whole.subarray(0, Math.floor(whole.length / 2)))
    expect(await redactArtifacts(dir, redact)).toEqual([])
    const text = gunzipSync(await readFile(file)).toString('utf8')
    expect(text.split('\n').length).toBeGreaterThan(100)
    expect(leaks(text)).toEqual([])
    expect(text).toContain(SECRET_MASK)
  })

  it('leaves metrics without a secret byte for byte as k6 wrote them', async () => {
    const dir = await copyOfRun()
    expect(await finishLikeTheRunner(dir, secretRedactor(['not-in-this-run']))).toEqual([])
    for (const file of ARTIFACT_FILES.filter((f) => f !== OUTPUT_FILES.frames)) expect((await readFile(path.join(dir, file))).equals(await readFile(path.join(rawDir, file))), file).toBe(true)
    expect(gunzipSync(await readFile(path.join(dir, OUTPUT_FILES.metrics))).equals(await readFile(path.join(rawDir, OUTPUT_FILES.frames)))).toBe(true)
  })

  it('finds a secret that straddles two chunks of the decompressed stream', async () => {
    const dir = await mkdtemp(path.join(root, 'run-'))
    // zlib hands out 16 KiB chunks: the secret starts a few bytes before the first boundary.
    const head = '{"metric":"x","data":{"tags":{"pad":"'
    const line = `${head}${'p'.repeat(16 * 1024 - 5 - head.length)}${TOKEN}"}}}\n`
    expect(line.indexOf(TOKEN)).toBe(16 * 1024 - 5)
    await writeFile(path.join(dir, OUTPUT_FILES.samples), gzipSync(line))
    expect(await redactArtifacts(dir, redact)).toEqual([])
    const text = gunzipSync(await readFile(path.join(dir, OUTPUT_FILES.samples))).toString('utf8')
    expect(leaks(text, 'ndjson')).toEqual([])
    expect(text.split('\n')).toHaveLength(2)
  })

  it('leaves every file as it is when the run has no secrets', async () => {
    const dir = await copyOfRun()
    expect(await redactArtifacts(dir, secretRedactor(['']), { log: () => expect.unreachable('nothing to mask, nothing to log') })).toEqual([])
    for (const file of ARTIFACT_FILES) expect((await readFile(path.join(dir, file))).equals(await readFile(path.join(rawDir, file))), file).toBe(true)
  })

  it('skips files k6 did not write and leaves no temporary file behind', async () => {
    const dir = await copyOfRun()
    await rm(path.join(dir, OUTPUT_FILES.report))
    await writeFile(path.join(dir, OUTPUT_FILES.summary), '')
    expect(await finishLikeTheRunner(dir, redact)).toEqual([])
    expect((await readdir(dir)).sort()).toEqual([OUTPUT_FILES.metrics, OUTPUT_FILES.samples, OUTPUT_FILES.summary].sort())
  })
})

describe('packFrames with the run\'s secrets', () => {
  /** A frame (FRAMES.md's shape, trimmed) whose one series carries `tags`, as k6 writes it. */
  const frame = (tags: Record<string, string>) => JSON.stringify({ v: 1, start: 1_800_000_000_000, end: 1_800_000_001_000, series: [{ metric: 'http_reqs', type: 'counter', tags, count: 3, sum: 3 }] })
  /** Go's JSON encoder writes &, < and > as \u escapes. */
  const goJson = (line: string) => line.replace(/&/g, '\\u0026').replace(/</g, '\\u003c').replace(/>/g, '\\u003e')

  it('masks a secret in a tag value of the plain frames before it gzips them, once, and removes the plain file', async () => {
    const dir = await mkdtemp(path.join(root, 'frames-'))
    const plainTag = frame({ name: `http://target/items?token=${TOKEN}`, method: 'GET' })
    const escapedTag = goJson(frame({ note: `tag ${PASSWORD}` }))
    expect(escapedTag).not.toContain(PASSWORD)
    expect(escapedTag).toContain('\\u0026')
    // A file read in 64 KiB chunks: this secret starts a few bytes before the first boundary.
    const head = frame({ pad: '' }).slice(0, frame({ pad: '' }).indexOf('"pad":"') + 7)
    const before = `${plainTag}\n${escapedTag}\n`
    const straddling = `${head}${'p'.repeat(64 * 1024 - 5 - before.length - head.length)}${TOKEN}"},"count":1,"sum":1}]}`
    expect((before + straddling).indexOf(TOKEN, before.length)).toBe(64 * 1024 - 5)
    const clean = frame({ name: 'http://target/health' })
    // k6 was killed mid-write: the last frame is cut, without its newline.
    const cut = frame({ name: `http://target/cut?token=${TOKEN}` }).slice(0, -10)
    await writeFile(path.join(dir, OUTPUT_FILES.frames), `${before}${straddling}\n${clean}\n${cut}`)

    expect(await packFrames(dir, redact)).toEqual({ bytes: expect.any(Number), masked: true })
    expect(await readdir(dir)).toEqual([OUTPUT_FILES.metrics])
    const text = gunzipSync(await readFile(path.join(dir, OUTPUT_FILES.metrics))).toString('utf8')
    expect(leaks(text)).toEqual([])
    const lines = text.split('\n')
    expect(lines).toHaveLength(5)
    const tags = lines.slice(0, 4).map((l) => (JSON.parse(l) as { series: { tags: Record<string, string> }[] }).series[0]!.tags)
    expect(tags[0]).toEqual({ name: `http://target/items?token=${SECRET_MASK}`, method: 'GET' })
    expect(tags[1]).toEqual({ note: `tag ${SECRET_MASK}` })
    expect(tags[2]!.pad).toMatch(new RegExp(`^p+${escapeRegExp(SECRET_MASK)}$`))
    // A frame without a secret is kept byte for byte, and so is what the cut one says besides it.
    expect(lines[3]).toBe(clean)
    expect(lines[4]).toBe(cut.replace(TOKEN, SECRET_MASK))
  })

  it('only gzips the frames of a run without secrets', async () => {
    const dir = await mkdtemp(path.join(root, 'frames-'))
    const plain = `${frame({ name: `http://target/items?token=${TOKEN}` })}\n`
    await writeFile(path.join(dir, OUTPUT_FILES.frames), plain)
    expect(await packFrames(dir, secretRedactor([]))).toEqual({ bytes: plain.length, masked: false })
    expect(gunzipSync(await readFile(path.join(dir, OUTPUT_FILES.metrics))).toString('utf8')).toBe(plain)
    expect(await readdir(dir)).toEqual([OUTPUT_FILES.metrics])
  })
})

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
