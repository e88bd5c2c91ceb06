// Which WebSocket the SDK uses: the one passed in options; on Node the `ws` package (imported
// lazily so browser bundles never pull it in); elsewhere the platform's global (browsers).
// Node 22+ has a global WebSocket too (undici's), but it takes no headers the way `ws` does, and
// the console socket's token travels in the Authorization header: with it, a CLI on Node 22+
// would be refused the console. So on Node the SDK always uses `ws`.

/** The part of the standard WebSocket API the SDK relies on (browsers, undici and `ws` all have it). */
export interface WebSocketLike {
  readonly readyState: number
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  close(code?: number, reason?: string): void
}

/** Any WebSocket class: the browser's, undici's or `ws`'s default export. */
export type WebSocketClass = new (url: string, ...args: never[]) => object

type WebSocketFactory = (url: string, headers: Record<string, string>) => WebSocketLike

export function webSocketFactory(given: WebSocketClass | undefined): () => Promise<WebSocketFactory> {
  let cached: Promise<WebSocketFactory> | undefined
  return () =>
    (cached ??= (async () => {
      // `ws` takes headers in its third argument; browsers and undici ignore it (browsers cannot
      // set headers on a WebSocket: there the page's cookies authenticate).
      const make = (Ctor: unknown): WebSocketFactory => (url, headers) =>
        new (Ctor as new (url: string, protocols: undefined, options: { headers: Record<string, string> }) => WebSocketLike)(url, undefined, { headers })
      if (given) return make(given)
      const global = (globalThis as { WebSocket?: unknown }).WebSocket
      if (global && !onNode()) return make(global)
      const mod = (await import('ws')) as { default: unknown }
      return make(mod.default)
    })())
}

function onNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: unknown } } }).process
  return typeof proc?.versions?.node === 'string'
}

/** A message's payload as text, whatever the implementation delivers (string, Buffer, ArrayBuffer). */
export function messageText(data: unknown): string {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return new TextDecoder().decode(data as ArrayBuffer)
  return String(data)
}
