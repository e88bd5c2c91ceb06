// A run's Temporal history as searchable text, its payloads decoded, for tests that assert what
// the history holds (the script, the variables) and what it must never hold (a secret's value).
import type { Client } from '@temporalio/client'

/** Every string in a value, with byte arrays (Temporal payload data) decoded as UTF-8 and as base64. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value)
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'), Buffer.from(value).toString('base64'))
  else if (Array.isArray(value)) for (const v of value) strings(v, out)
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k)
      strings(v, out)
    }
  }
  return out
}

/** The history of the run's workflow (`run-<runId>`): its JSON and every string in it, decoded. */
export async function historyText(temporal: Client, runId: string): Promise<{ events: number; text: string }> {
  const history = await temporal.workflow.getHandle(`run-${runId}`).fetchHistory()
  return { events: history.events?.length ?? 0, text: [JSON.stringify(history), ...strings(history)].join('\n') }
}
