// The metric names k6 v2 emits by itself. A threshold on any other name that the script does
// not define as a custom metric never gets a sample, and k6 lets such a threshold pass silently.

export const K6_BUILTIN_METRICS: readonly string[] = [
  // Core and HTTP
  'vus', 'vus_max', 'iterations', 'iteration_duration', 'dropped_iterations', 'data_received', 'data_sent',
  'checks', 'group_duration',
  'http_reqs', 'http_req_blocked', 'http_req_connecting', 'http_req_tls_handshaking', 'http_req_sending',
  'http_req_waiting', 'http_req_receiving', 'http_req_duration', 'http_req_failed',
  // WebSockets (k6/ws and k6/experimental/websockets)
  'ws_connecting', 'ws_session_duration', 'ws_sessions', 'ws_msgs_sent', 'ws_msgs_received', 'ws_ping',
  // gRPC
  'grpc_req_duration', 'grpc_streams', 'grpc_streams_msgs_received', 'grpc_streams_msgs_sent',
  // Browser
  'browser_data_received', 'browser_data_sent', 'browser_http_req_duration', 'browser_http_req_failed',
  'browser_web_vital_cls', 'browser_web_vital_fcp', 'browser_web_vital_fid', 'browser_web_vital_inp',
  'browser_web_vital_lcp', 'browser_web_vital_ttfb',
]

/** Edit distance, to suggest the metric a misspelt threshold name meant. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost))
    }
    prev = cur
  }
  return prev[b.length] ?? 0
}

export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(name, c)
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined
}
