// Console lines as heartbeats carry them: the new lines of the runner's window in the clear, the
// rest of the window (kept so a viewer who opens a running run mid-way sees what led up to now)
// gzipped as one block.
//
// Why: the window keeps the newest 200 lines whatever their age, re-sent on every heartbeat, each
// stored by Temporal in the activity's state and parsed by the API on every poll. Once a run has
// printed 200 lines of k6's progress they are 22 KB of JSON; packed, 3.7 KB. The API unpacks them
// only when it lacks them (a feed's first poll, or after heartbeats it missed).
//
// Node only (node:zlib): the workflow bundle and the web never import this module.
import { constants, gunzipSync, gzipSync } from 'node:zlib'
import { z } from 'zod'
import { consoleLineSchema, type ConsoleLine } from './console.ts'
import type { PackedLines } from './temporal.ts'

/**
 * Bytes of JSON in one heartbeat's packed lines: the runner packs the newest that fit (the oldest
 * go; they are context, and in the archived console once the run ends) and the API unpacks no more,
 * so a hostile runner's gzip bomb costs the API at most this much per heartbeat.
 */
export const EARLIER_LINES_BYTES = 512 * 1024

const linesSchema = z.array(consoleLineSchema)

/**
 * Packs lines (in seq order), the newest that fit in EARLIER_LINES_BYTES; `json` gives a line's
 * JSON when the caller has it already. Undefined for no lines, or when not even the newest fits.
 */
export function packLines(lines: readonly ConsoleLine[], json: (line: ConsoleLine, index: number) => string = (l) => JSON.stringify(l)): PackedLines | undefined {
  const parts: string[] = []
  let bytes = 2
  let first = lines.length
  while (first > 0) {
    const text = json(lines[first - 1]!, first - 1)
    const size = Buffer.byteLength(text) + 1
    if (bytes + size > EARLIER_LINES_BYTES) break
    parts.push(text)
    bytes += size
    first--
  }
  if (parts.length === 0) return undefined
  parts.reverse()
  const gz = gzipSync(`[${parts.join(',')}]`, { level: constants.Z_BEST_SPEED }).toString('base64')
  return { fromSeq: lines[first]!.seq, lastSeq: lines.at(-1)!.seq, gz }
}

/**
 * The lines packed lines hold; undefined when they hold none: not base64 gzip, more than
 * `maxBytes` unpacked (not unpacked past that), not console lines in ascending seq order, or not
 * the range they name.
 */
export function unpackLines(packed: PackedLines, maxBytes: number = EARLIER_LINES_BYTES): ConsoleLine[] | undefined {
  try {
    const json = gunzipSync(Buffer.from(packed.gz, 'base64'), { maxOutputLength: maxBytes }).toString('utf8')
    const lines = linesSchema.safeParse(JSON.parse(json)).data
    if (!lines || lines[0]?.seq !== packed.fromSeq || lines.at(-1)!.seq !== packed.lastSeq) return undefined
    for (let i = 1; i < lines.length; i++) if (lines[i]!.seq <= lines[i - 1]!.seq) return undefined
    return lines
  } catch {
    return undefined
  }
}
