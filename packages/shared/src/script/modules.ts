// How an import specifier is classified. k6 resolves only its own modules, remote module URLs
// and files next to the script; it has no Node runtime and no npm resolution.

export type ImportKind = 'k6' | 'k6-browser' | 'k6-unknown' | 'remote' | 'local' | 'node-builtin' | 'playwright' | 'npm'

export const K6_MODULES: readonly string[] = [
  'k6', 'k6/http', 'k6/metrics', 'k6/data', 'k6/crypto', 'k6/encoding', 'k6/ws', 'k6/net/grpc', 'k6/execution',
  'k6/timers', 'k6/html', 'k6/secrets', 'k6/browser',
  'k6/experimental/websockets', 'k6/experimental/streams', 'k6/experimental/csv', 'k6/experimental/fs',
  'k6/experimental/redis', 'k6/experimental/tracing', 'k6/experimental/webcrypto', 'k6/experimental/browser',
]

const BROWSER_MODULES = new Set(['k6/browser', 'k6/experimental/browser'])

export const NODE_BUILTINS: ReadonlySet<string> = new Set([
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'console', 'constants', 'crypto', 'dgram',
  'diagnostics_channel', 'dns', 'domain', 'events', 'fs', 'http', 'http2', 'https', 'inspector', 'module', 'net',
  'os', 'path', 'perf_hooks', 'process', 'punycode', 'querystring', 'readline', 'repl', 'stream', 'string_decoder',
  'sys', 'timers', 'tls', 'trace_events', 'tty', 'url', 'util', 'v8', 'vm', 'wasi', 'worker_threads', 'zlib', 'test', 'sqlite', 'sea',
])

export function classifyImport(specifier: string): ImportKind {
  if (specifier === 'k6' || specifier.startsWith('k6/')) {
    if (BROWSER_MODULES.has(specifier)) return 'k6-browser'
    return K6_MODULES.includes(specifier) ? 'k6' : 'k6-unknown'
  }
  // k6 reads the scheme in any case (HTTPS://… is fetched too).
  if (/^https?:\/\//i.test(specifier)) return 'remote'
  if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier.startsWith('file://')) return 'local'
  if (specifier.startsWith('node:')) return 'node-builtin'
  const root = specifier.split('/')[0] ?? specifier
  if (NODE_BUILTINS.has(root)) return 'node-builtin'
  if (specifier === 'playwright' || specifier === 'playwright-core' || specifier.startsWith('@playwright/') || specifier.startsWith('playwright/')) {
    return 'playwright'
  }
  return 'npm'
}
