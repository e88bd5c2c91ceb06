// The live console protocol. The runner numbers every k6 output line (seq, from 1) and
// heartbeats the newest lines with an overlap window; the API relays them to WebSocket viewers
// as the messages below. Sequence numbers make resume-after-disconnect exact.
import { z } from 'zod'
import { runStatusSchema } from './run.ts'
import { metricFrameSchema } from './metric-frames.ts'
import { parseNdjson } from './ndjson.ts'

export const consoleStreamSchema = z.enum(['stdout', 'stderr'])
export type ConsoleStream = z.infer<typeof consoleStreamSchema>

export const consoleLineSchema = z.object({
  seq: z.number().int().positive(),
  stream: consoleStreamSchema,
  text: z.string(),
  /** ISO time the runner read the line. */
  time: z.string(),
})
export type ConsoleLine = z.infer<typeof consoleLineSchema>

/**
 * A run's console index (one JSON line per console line, as the runner writes it and stores it as
 * the archived console), in seq order. A torn line (the runner died mid-write) or a line that is
 * not a console line is skipped: the rest is still good.
 */
export function parseConsoleIndex(text: string): ConsoleLine[] {
  const lines = parseNdjson(text, consoleLineSchema)
  // Written in order; sorting is cheap insurance for the binary searches on it.
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.seq <= lines[i - 1]!.seq) return lines.sort((a, b) => a.seq - b.seq)
  }
  return lines
}

/** What a k6 activity heartbeat carries: the newest lines, `lines[0].seq === fromSeq`. */
export const consoleChunkSchema = z.object({
  fromSeq: z.number().int().positive(),
  lines: z.array(consoleLineSchema),
  /** Highest seq written so far (equals the last line's seq when lines is non-empty). */
  lastSeq: z.number().int().nonnegative(),
})
export type ConsoleChunk = z.infer<typeof consoleChunkSchema>

export const consoleMessageSchema = z.discriminatedUnion('type', [
  /**
   * New console lines: consecutive seqs, ascending, each after everything the viewer got before
   * (a hole is announced by a `gap` first). Live, one message per console tick holds that tick's
   * new lines; a catch-up or an archive replay comes as several, each of bounded size.
   */
  z.object({ type: z.literal('lines'), lines: z.array(consoleLineSchema) }),
  z.object({
    type: z.literal('gap'),
    from: z.number(),
    to: z.number(),
    reason: z.string(),
    /** Where the complete log is (tRPC `runs.artifactUrl({ runId, name: 'log' })` once the run ends). */
    log: z.object({ runId: z.string(), artifact: z.literal('log') }),
  }),
  z.object({
    type: z.literal('status'),
    status: runStatusSchema,
    waitingForRunner: z.boolean(),
    /** Set while a running run's runner has not been heard from for this many seconds (absent when it answers). */
    runnerSilentSeconds: z.number().int().positive().optional(),
  }),
  /**
   * Lines of an earlier `gap`, sent as soon as the archived log holds them (at the latest with
   * `end`): `lines` are the range's lines in seq order (every seq from `from` to `to` the log has).
   */
  z.object({ type: z.literal('fill'), from: z.number(), to: z.number(), lines: z.array(consoleLineSchema) }),
  /**
   * Metric frames (one per second of the run; packages/k6-output/FRAMES.md), only to viewers that
   * asked with `metrics=<after>`: ascending by `start`, each after everything the viewer got (a
   * reconnect with `metrics=<start of the last frame held>` misses none and repeats none). Frames
   * the live relay no longer holds (older than about 10 minutes) are not sent: read them with
   * `runs.metrics`. A frame with `reduced: true` holds only its total series (too large for the
   * live path); the stored series are whole.
   */
  z.object({ type: z.literal('metrics'), frames: z.array(metricFrameSchema) }),
  /** The API is stopping: reconnect (with `after` = the last line held) to go on; this is not an end. */
  z.object({ type: z.literal('reconnect'), reason: z.string() }),
  z.object({ type: z.literal('end'), status: runStatusSchema, lastSeq: z.number() }),
  z.object({ type: z.literal('error'), message: z.string() }),
])
export type ConsoleMessage = z.infer<typeof consoleMessageSchema>
