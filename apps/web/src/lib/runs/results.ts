// The result cards of a finished run, in reading order: traffic, latency, load, data, checks.
// Every value is one k6 reported for the run; what it did not report shows as a dash.
import { formatBytes, formatChecks, formatCount, formatDuration, formatPercent, formatRate } from './format.ts'
import type { Run } from './run-detail.svelte.ts'

export interface ResultCard {
  group: 'Requests' | 'Latency' | 'Load' | 'Data' | 'Checks'
  label: string
  value: string
  /** Worth a colour: failures present, or explicitly none. */
  tone?: 'bad' | 'ok'
  hint?: string
}

export function resultCards(metrics: Run['metrics']): ResultCard[] {
  const d = metrics.httpReqDuration
  const failedRate = metrics.httpReqFailedRate
  const checksFailed = metrics.checksFailed ?? 0
  const checksTotal = (metrics.checksPassed ?? 0) + checksFailed
  return [
    { group: 'Requests', label: 'Requests', value: formatCount(metrics.httpReqs) },
    { group: 'Requests', label: 'Request rate', value: formatRate(metrics.httpReqRate) },
    {
      group: 'Requests',
      label: 'Failure rate',
      value: formatPercent(failedRate),
      ...(failedRate === null ? {} : { tone: failedRate > 0 ? ('bad' as const) : ('ok' as const) }),
      hint: 'http_req_failed: responses outside the expected statuses, and errors',
    },
    { group: 'Latency', label: 'p50', value: formatDuration(d.med), hint: 'median http_req_duration' },
    { group: 'Latency', label: 'p90', value: formatDuration(d.p90) },
    { group: 'Latency', label: 'p95', value: formatDuration(d.p95) },
    { group: 'Latency', label: 'p99', value: formatDuration(d.p99) },
    { group: 'Latency', label: 'max', value: formatDuration(d.max) },
    { group: 'Load', label: 'Iterations', value: formatCount(metrics.iterations) },
    { group: 'Load', label: 'Max VUs', value: formatCount(metrics.vusMax) },
    { group: 'Data', label: 'Data sent', value: formatBytes(metrics.dataSent) },
    { group: 'Data', label: 'Data received', value: formatBytes(metrics.dataReceived) },
    {
      group: 'Checks',
      label: 'Checks passed',
      value: formatChecks(metrics.checksPassed, metrics.checksFailed),
      ...(checksTotal === 0 ? {} : { tone: checksFailed > 0 ? ('bad' as const) : ('ok' as const) }),
      ...(checksFailed > 0 ? { hint: `${formatCount(checksFailed)} failed` } : {}),
    },
  ]
}
