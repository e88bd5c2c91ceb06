// The archived console of a run (the runner's console index in S3, one JSON line per console
// line, complete once it exists) and the `fill` messages cut from it for announced gaps.
import { artifactKey, CONSOLE_INDEX_FILE, parseConsoleIndex, type ConsoleLine, type ConsoleMessage } from '@stampede/shared'
import { ArtifactNotFoundError, type Storage } from '@stampede/storage'

/** Lines per `fill` message: a large range goes out as several fills, each a contiguous part of it. */
export const FILL_LINES = 1000

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

/** The `fill` messages for [from, to] from the archive: contiguous parts covering the range, each at most FILL_LINES lines. */
export function fillsFor(archive: readonly ConsoleLine[], from: number, to: number): FillMessage[] {
  const fills: FillMessage[] = []
  let partFrom = from
  let lines: ConsoleLine[] = []
  for (let i = firstAfter(archive, from - 1); i < archive.length && archive[i]!.seq <= to; i++) {
    lines.push(archive[i]!)
    if (lines.length === FILL_LINES) {
      const partTo = archive[i]!.seq
      fills.push({ type: 'fill', from: partFrom, to: partTo, lines })
      partFrom = partTo + 1
      lines = []
    }
  }
  if (partFrom <= to) fills.push({ type: 'fill', from: partFrom, to, lines })
  return fills
}
