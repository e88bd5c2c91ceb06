// Scripts that try to get out of the k6 sandbox or past its limits: each is validated with
// `scripts.validate` and started as a run by e2e/test/sandbox.test.ts, which checks that it fails
// with a clear message and that nothing of the host shows up anywhere.

export interface EscapeContext {
  /** host:port of the platform's Temporal frontend. */
  temporal: string
  /** URL of the embedded S3 server. */
  s3: string
  /** host:port of an embedded Postgres started on the platform's address. */
  postgres: string
  /** A file on the host (absolute path) no script may read. */
  hostFile: string
  /** The runner's own pid on the host. */
  runnerPid: number
  /** A finished run of another project whose archived console no script may read. */
  otherRunId: string
  /** A local target on 127.0.0.1 scripts may reach (single-machine mode). */
  target: string
}

export interface EscapeExpectation {
  /** scripts.validate refuses with a message matching this; the run is then refused too. */
  refused?: RegExp
  /** The run's final status and what its error message (or console) says. */
  run?: { status: 'error' | 'passed' | 'failed'; message?: RegExp; console?: RegExp; artifacts?: string[] }
}

export interface EscapeScript extends EscapeExpectation {
  name: string
  script: string
  /** Plain variables of the test. */
  env?: Record<string, string>
  /** Secrets of the test (validation sees stand-ins, the run the values). */
  secrets?: Record<string, string>
}

/** Throws in setup() with what the request says, so the run ends `error` naming it. */
const GET = (url: string) => `
  import http from 'k6/http'
  export const options = { iterations: 1 }
  export function setup() {
    const res = http.get(${url}, { timeout: '5s' })
    if (res.error) throw new Error('request failed: ' + res.error)
    throw new Error('request reached the target: HTTP ' + res.status)
  }
  export default function () {}`

/** Reads a file in the init context (the only place k6's open() works). */
const OPEN_AT_INIT = (expr: string) => `
  const data = open(${expr})
  export default function () { console.log('read: ' + data.slice(0, 200)) }`

/** Reads a file when the test runs, with k6/experimental/fs, and prints whatever it got. */
const FS_AT_INIT = (expr: string) => `
  import { open as fsOpen } from 'k6/experimental/fs'
  let file
  try { file = await fsOpen(${expr}) } catch (e) { throw new Error('fs refused: ' + e) }
  export default async function () {
    const buf = new Uint8Array(4096)
    const n = await file.read(buf)
    console.log('fs read: ' + String.fromCharCode(...buf.slice(0, n || 0)))
  }`

const NOT_FOUND = /no such file or directory|not found|input\/output error|permission denied|does not exist/i
const BLOCKED = /blacklist|connection refused|network is unreachable/i

export function escapeCorpus(ctx: EscapeContext): EscapeScript[] {
  const [temporalHost, temporalPort] = ctx.temporal.split(':')
  return [
    // Files of the host, by computed paths the static open() check cannot see.
    { name: 'computed /etc/passwd', script: OPEN_AT_INIT(`'/et' + 'c/passwd'`), refused: NOT_FOUND },
    { name: 'passwd echoed through an error', script: `throw new Error(open(['', 'etc', 'passwd'].join('/')))\nexport default function () {}`, refused: NOT_FOUND },
    { name: 'up two levels to the data directory', script: `const up = '..'\n${OPEN_AT_INIT(`up + '/' + up + '/secrets.key'`)}`, refused: NOT_FOUND },
    { name: 'a host file by its absolute path', script: OPEN_AT_INIT('__ENV.HOST_FILE'), env: { HOST_FILE: ctx.hostFile }, refused: NOT_FOUND },
    { name: 'a host file relative to the run directory', script: OPEN_AT_INIT(`'../'.repeat(12) + __ENV.HOST_FILE.slice(1)`), env: { HOST_FILE: ctx.hostFile }, refused: NOT_FOUND },
    { name: "another run's archived console in the S3 folder", script: OPEN_AT_INIT(`'../../s3/stampede/runs/' + __ENV.OTHER + '/console.log._S3rver_object'`), env: { OTHER: ctx.otherRunId }, refused: NOT_FOUND },
    { name: 'sibling run directories', script: OPEN_AT_INIT(`'../' + 'console.log'`), refused: NOT_FOUND },
    { name: 'file:// URL to /etc/passwd', script: OPEN_AT_INIT(`'file:///et' + 'c/passwd'`), refused: NOT_FOUND },
    { name: 'require() of a computed host path', script: `const x = require(['', 'etc', 'hosts'].join('/'))\nexport default function () { console.log(String(x)) }`, refused: /no such file|not found|could not|GoError|Error/i },
    { name: '/sys of the host', script: OPEN_AT_INIT(`'/sy' + 's/class/net/lo/address'`), refused: NOT_FOUND },
    // /proc: the sandbox's own, and k6 cannot read its files.
    { name: '/proc/self/environ', script: OPEN_AT_INIT(`'/proc/' + 'self/environ'`), refused: NOT_FOUND },
    { name: "/proc/1/environ (the sandbox's pid 1 is k6 itself)", script: OPEN_AT_INIT(`'/proc/' + '1/environ'`), refused: NOT_FOUND },
    { name: '/proc/self/mountinfo', script: OPEN_AT_INIT(`'/proc/' + 'self/mountinfo'`), refused: NOT_FOUND },
    { name: "the runner's /proc/<pid>/environ", script: OPEN_AT_INIT(`'/proc/' + __ENV.PARENT + '/environ'`), env: { PARENT: String(ctx.runnerPid) }, refused: NOT_FOUND },
    { name: 'symlink /proc/self/root into the host', script: OPEN_AT_INIT(`'/proc/self/root' + __ENV.HOST_FILE`), env: { HOST_FILE: ctx.hostFile }, refused: NOT_FOUND },
    { name: 'symlink /proc/self/cwd upwards', script: OPEN_AT_INIT(`'/proc/self/cwd/../../..' + '/etc/passwd'`), refused: NOT_FOUND },
    { name: 'symlink /dev/fd upwards', script: OPEN_AT_INIT(`'/dev/fd/../../../etc/' + 'passwd'`), refused: NOT_FOUND },
    { name: 'k6/experimental/fs: /etc/passwd', script: FS_AT_INIT(`'/etc/' + 'passwd'`), refused: /fs refused/ },
    { name: 'k6/experimental/fs: a host file', script: FS_AT_INIT('__ENV.HOST_FILE'), env: { HOST_FILE: ctx.hostFile }, refused: /fs refused/ },
    { name: 'k6/experimental/fs: /proc/self/status', script: FS_AT_INIT(`'/proc/self/' + 'status'`), refused: /fs refused: input\/output error/ },
    { name: 'the environment holds nothing of the platform', script: `export default function () { const keys = Object.keys(__ENV).sort().join(','); if (/DATABASE|S3_|TEMPORAL|SECRETS|AWS|NODE|npm_/i.test(keys)) throw new Error('platform variables: ' + keys); console.log('env ok: ' + keys) }`, run: { status: 'passed', console: /env ok: HOME,K6_AUTO_EXTENSION_RESOLUTION,K6_NO_USAGE_REPORT,K6_STAMPEDE_MAX_SERIES,K6_WEB_DASHBOARD_EXPORT,K6_WEB_DASHBOARD_PERIOD,K6_WEB_DASHBOARD_PORT,PATH,PWD,TMPDIR/ } },
    // Memory, files and output.
    { name: '/dev/zero read whole', script: OPEN_AT_INIT(`'/dev/' + 'zero'`), refused: /memory|could not|Error/i },
    { name: 'a giant string at init', script: `const parts = []; for (let i = 0; i < 100000; i++) parts.push('x'.repeat(1 << 20) + i)\nexport default function () { console.log(parts.length) }`, refused: /ran out of memory: it may use at most 128 MB \(K6_VALIDATION_MEMORY_MB\)/ },
    { name: 'giant buffers at init', script: `const parts = []; for (let i = 0; i < 100000; i++) parts.push(new Uint8Array(1 << 24).fill(1))\nexport default function () { console.log(parts.length) }`, refused: /ran out of memory: it may use at most 128 MB \(K6_VALIDATION_MEMORY_MB\)/ },
    { name: 'a giant string in the default function', script: `export const options = { iterations: 1 }\nexport default function () { const parts = []; for (let i = 0; i < 100000; i++) parts.push('x'.repeat(1 << 20) + i); console.log(parts.length) }`, run: { status: 'error', message: /ran out of memory: it may use at most 256 MB \(K6_RUN_MEMORY_MB\)/ } },
    { name: 'an endless loop in the init code', script: `for (;;) {}\nexport default function () {}`, refused: /CPU time limit of 2 s|did not finish loading the script within/ },
    {
      name: 'a giant handleSummary file',
      script: `export const options = { iterations: 1 }\nexport default function () {}\nexport function handleSummary() { return { 'report.html': 'y'.repeat(6 * 1024 * 1024) } }`,
      run: { status: 'error', message: /report\.html up to the file size limit of 4 MB \(K6_MAX_FILE_MB\)/ },
    },
    {
      name: 'metrics output past the file size limit',
      script: `
        import { Counter } from 'k6/metrics'
        const c = new Counter('noise')
        const noise = (n) => { let s = ''; while (s.length < n) s += Math.random().toString(36).slice(2); return s }
        export const options = { iterations: 1 }
        export default function () { for (let i = 0; i < 3000; i++) c.add(1, { name: noise(8000) }) }`,
      // What k6 wrote up to the limit is stored: its series carry kilobyte-long tag values.
      run: { status: 'error', message: /metrics\.ndjson up to the file size limit of 4 MB \(K6_MAX_FILE_MB\)/, artifacts: ['log', 'metrics'] },
    },
    { name: 'handleSummary files outside the outputs', script: `export const options = { iterations: 1 }\nexport default function () {}\nexport function handleSummary() { return { 'extra.txt': 'x', '/etc/cron.d/x': 'x', '../../escape.txt': 'x', '/tmp/x': 'x', '/dev/shm/x': 'x' } }`, run: { status: 'passed', console: /read-only file system/ } },
    { name: 'a console flood', script: `export const options = { iterations: 1 }\nexport default function () { const line = 'flood '.repeat(200); for (let i = 0; i < 100000; i++) console.log(line + i) }`, run: { status: 'error', message: /console output passed 2 MB \(K6_MAX_LOG_MB\)/ } },
    { name: 'one gigantic console line', script: `export const options = { iterations: 1 }\nexport default function () { console.log('g'.repeat(5 * 1024 * 1024)) }`, run: { status: 'passed', console: /\[line cut at 64 KB\]/ } },
    // The platform's own services on loopback (single-machine mode).
    { name: 'HTTP to Temporal', script: GET(`'http://${ctx.temporal}/'`), run: { status: 'error', message: BLOCKED } },
    { name: "HTTP to Temporal's port on 127.0.0.1", script: GET(`'http://127.0.0.1:${temporalPort}/'`), run: { status: 'error', message: BLOCKED } },
    {
      name: 'gRPC to Temporal',
      script: `
        import grpc from 'k6/net/grpc'
        const client = new grpc.Client()
        export const options = { iterations: 1 }
        export function setup() { client.connect('${temporalHost}:${temporalPort}', { plaintext: true, reflect: true, timeout: '5s' }); throw new Error('gRPC reached Temporal') }
        export default function () {}`,
      run: { status: 'error', message: BLOCKED },
    },
    { name: 'HTTP to the embedded S3', script: GET(`'${ctx.s3}/stampede/runs/'`), run: { status: 'error', message: BLOCKED } },
    { name: 'HTTP to the embedded Postgres', script: GET(`'http://${ctx.postgres}/'`), run: { status: 'error', message: BLOCKED } },
    { name: "another run's k6 REST API", script: GET(`'http://127.77.' + (1 + Math.floor(Math.random() * 250)) + '.9:6565/v1/status'`), run: { status: 'error', message: BLOCKED } },
    { name: 'a hosts mapping onto the platform range', script: GET(`'http://platform.internal:${temporalPort}/'`).replace("export const options = { iterations: 1 }", `export const options = { iterations: 1, hosts: { 'platform.internal': '${temporalHost}' } }`), run: { status: 'error', message: BLOCKED } },
    // Caps computed from what validation and the run might see differently.
    {
      name: "VUs from the runner's own files beside the script",
      script: `let found = false
        for (const f of ['console.log', 'console.ndjson', '../console.log']) { try { open(f); found = true } catch (e) {} }
        export const options = { vus: found ? 4 : 1, iterations: 1 }
        export default function () { console.log('same world: ' + found) }`,
      run: { status: 'passed', console: /same world: false/ },
    },
    { name: 'VUs from the validation directory name', script: `export const options = { vus: (__ENV.HOME || '').includes('stampede-inspect-') ? 1 : 4, duration: '2s' }\nexport default function () {}`, refused: /needs up to 4 VUs; this project allows at most 2/ },
    { name: 'duration from the working directory', script: `export const options = { vus: 1, duration: __ENV.PWD === '/work' ? '20m' : '1s' }\nexport default function () {}`, refused: /can run for up to .* this project allows at most 700 s/ },
    {
      name: 'VUs from the secret stand-in',
      script: `export const options = { vus: __ENV.TOKEN === 'secret-value-withheld-during-validation' ? 1 : 4, duration: '3s' }\nexport default function () {}`,
      secrets: { TOKEN: 'not-the-stand-in' },
      run: { status: 'error', message: /started 4 VUs at run time; this project allows at most 2\. k6 was stopped before sending any load/ },
    },
    {
      name: 'arrival-rate VUs growing past the cap at run time',
      script: `export const options = { scenarios: { a: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '20s', preAllocatedVUs: 1, maxVUs: __ENV.TOKEN === 'secret-value-withheld-during-validation' ? 2 : 8 } } }
        export default function () { const t = Date.now(); while (Date.now() - t < 100) {} }`,
      secrets: { TOKEN: 'not-the-stand-in' },
      run: { status: 'error', message: /reached [3-8] VUs while running; this project allows at most 2\. The run was stopped/ },
    },
  ]
}
