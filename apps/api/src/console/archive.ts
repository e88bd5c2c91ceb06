// The archived console of a run (the runner's console index in S3, one JSON line per console
// line, complete once it exists) and the `fill` messages cut from it for announced gaps.
import { artifactKey, CONSOLE_INDEX_FILE, parseConsoleIndex, type ConsoleLine, type ConsoleMessage } from '@stampede/shared'
import { ArtifactNotFoundError, type Storage } from '@stampede/storage'

/**
 * Bounds of one message carrying lines (`lines` or `fill`): a large range goes out as several
 * messages, each a contiguous part of it with at most MESSAGE_LINES lines and about
 * MESSAGE_BYTES of JSON (a single longer line still goes alone).
 */
export const MESSAGE_LINES = 1000
export const MESSAGE_BYTES = 256 * 1024
/** What a line costs in a message beyond its text (seq, stream, time, the JSON around them). */
const LINE_OVERHEAD_BYTES = 80

/** The JSON size a line adds to a message, about (text length in UTF-16 units: close enough for a bound). */
export const lineBytes = (line: ConsoleLine): number => line.text.length + LINE_OVERHEAD_BYTES

export type FillMessage = Extract<ConsoleMessage, { type: 'fill' }>

/**
 * The run's archived console in seq order, or null when there is none (yet). Any other
 * failure (S3 unreachable) throws, so the caller can tell "not there" from "cannot tell".
 */
export async function readArchive(storage: Storage, runId: string): Promise<ConsoleLine[] | null> {
  let text: string
  try {
    text = (await storage.getBytes(artifactKey(runId, CONSOLE_INDEX_FILE))).toString('utf8')
  } catch (err) {
    if (err instanceof ArtifactNotFoundError) return null
    throw err
  }
  return parseConsoleIndex(text)
}

/** Index of the first line with seq > after (lines sorted by seq). */
export function firstAfter(lines: readonly ConsoleLine[], after: number): number {
  let lo = 0
  let hi = lines.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (lines[mid]!.seq <= after) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The `fill` messages for [from, to] from the archive: contiguous parts covering the range, each within the message bounds. */
export function fillsFor(archive: readonly ConsoleLine[], from: number, to: number): FillMessage[] {
  const fills: FillMessage[] = []
  let partFrom = from
  let lines: ConsoleLine[] = []
  let bytes = 0
  for (let i = firstAfter(archive, from - 1); i < archive.length && archive[i]!.seq <= to; i++) {
    const line = archive[i]!
    if (lines.length > 0 && bytes + lineBytes(line) > MESSAGE_BYTES) {
      // This part ends just before the line that would make it too large.
      const partTo = line.seq - 1
      fills.push({ type: 'fill', from: partFrom, to: partTo, lines })
      partFrom = partTo + 1
      lines = []
      bytes = 0
    }
    lines.push(line)
    bytes += lineBytes(line)
    if (lines.length === MESSAGE_LINES) {
      const partTo = line.seq
      fills.push({ type: 'fill', from: partFrom, to: partTo, lines })
      partFrom = partTo + 1
      lines = []
      bytes = 0
    }
  }
  if (partFrom <= to) fills.push({ type: 'fill', from: partFrom, to, lines })
  return fills
}
