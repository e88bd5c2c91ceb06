// Follows the metric frames k6 writes while it runs (metrics.ndjson, one line per second; see
// packages/k6-output/FRAMES.md) and keeps a bounded window of the newest ones for the activity's
// heartbeats, as the console recorder does for lines: a frame stays in the heartbeats for
// `maxAgeMs` after it was read (overlapping consecutive heartbeats), so an API that reads them a
// little late loses none, and heartbeats sent for console lines later do not carry it again.
//
// The file is in the run's directory, so its content is checked like any input: lines longer
// than `maxLineBytes` or that are not frames are skipped, each read is bounded, secrets are
// masked in every string, and a frame too large for a heartbeat goes out reduced to its total
// series (the stored artifact keeps it whole). Each frame is packed (gzipped) once, as it is read,
// for all the heartbeats that carry it (see @stampede/shared/heartbeat-frames).
import { open, type FileHandle } from 'node:fs/promises'
import { metricFrameSchema } from '@stampede/shared'
import { HEARTBEAT_FRAMES, packFrame } from '@stampede/shared/heartbeat-frames'
import type { PackedFrame } from '@stampede/shared/temporal'
import { redactJson, type Redact } from './redact.ts'

export interface FrameWindowLimits {
  /** Frames kept in every heartbeat (the newest; at most HEARTBEAT_FRAMES.frames, what the API reads). */
  maxFrames: number
  /** How long after it was read a frame stays in the heartbeats. */
  maxAgeMs: number
  /** Bytes of the packed frames in one heartbeat. */
  maxBytes: number
  /** Bytes of one frame as JSON: a larger one goes out reduced (at most HEARTBEAT_FRAMES.frameBytes, what the API unpacks). */
  maxFrameBytes: number
  /** A longer line is not a frame Stampede's k6 wrote: skipped. */
  maxLineBytes: number
  /** Bytes read from the file per poll. */
  readBytes: number
}

export const DEFAULT_FRAME_WINDOW: FrameWindowLimits = {
  maxFrames: HEARTBEAT_FRAMES.frames,
  maxAgeMs: 3000,
  maxBytes: 256 * 1024,
  maxFrameBytes: HEARTBEAT_FRAMES.frameBytes,
  maxLineBytes: 16 * 1024 * 1024,
  readBytes: 4 * 1024 * 1024,
}

/**
 * When the frames file is read: k6 writes a frame on every wall-clock second (the output's period
 * boundaries), so it is read FRAME_READ_AFTER_MS after each; a read that finds no new frame (k6
 * still starting, or late under load) tries again FRAME_RETRY_MS later, never past the next
 * second's read. One read a second instead of four, and a frame leaves about 30 ms after k6
 * wrote it instead of 125 ms on average.
 */
const FRAME_READ_AFTER_MS = 30
const FRAME_RETRY_MS = 250

/** Milliseconds from `now` to the next read of the frames file (see FRAME_READ_AFTER_MS). */
export function nextFrameRead(now: number, found: boolean): number {
  const onTheSecond = Math.floor((now - FRAME_READ_AFTER_MS) / 1000) * 1000 + 1000 + FRAME_READ_AFTER_MS
  return (found ? onTheSecond : Math.min(onTheSecond, now + FRAME_RETRY_MS)) - now
}

/** Bytes read from the file at a time (the poll loops up to `readBytes`). */
const READ_CHUNK_BYTES = 64 * 1024

interface Held {
  frame: PackedFrame
  /** Packed bytes. */
  bytes: number
  /** When it was read (this process's clock). */
  at: number
}

export class FrameTail {
  private handle: FileHandle | undefined
  private offset = 0
  private partial: Buffer[] = []
  private partialBytes = 0
  /** Inside a line longer than maxLineBytes: dropped up to its end. */
  private skipping = false
  private window: Held[] = []
  private reading: Promise<boolean> | undefined
  private closed = false
  private buffer: Buffer | undefined

  constructor(
    private readonly file: string,
    private readonly redact: Redact,
    private readonly limits: FrameWindowLimits = DEFAULT_FRAME_WINDOW,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads what k6 added since the last poll (at most `readBytes`); true when new frames arrived. Never throws. */
  poll(): Promise<boolean> {
    this.reading ??= this.read().finally(() => (this.reading = undefined))
    return this.reading
  }

  /** The packed frames for a heartbeat now: those read within the last `maxAgeMs`, newest last. */
  recent(): PackedFrame[] {
    const since = this.now() - this.limits.maxAgeMs
    return this.window.filter((h) => h.at >= since).map((h) => h.frame)
  }

  async close(): Promise<void> {
    this.closed = true
    await this.reading?.catch(() => {})
    await this.handle?.close().catch(() => {})
    this.handle = undefined
  }

  private async read(): Promise<boolean> {
    if (this.closed) return false
    try {
      this.handle ??= await open(this.file, 'r')
      // One buffer per tail, reused by every poll: a fresh one each time (four a second for each
      // run) was garbage for the collector, and k6 writes a frame of a few KB a second.
      const buffer = (this.buffer ??= Buffer.allocUnsafe(Math.min(this.limits.readBytes, READ_CHUNK_BYTES)))
      let added = false
      let budget = this.limits.readBytes
      while (budget > 0 && !this.closed) {
        const { bytesRead } = await this.handle.read(buffer, 0, Math.min(buffer.length, budget), this.offset)
        if (bytesRead === 0) break
        this.offset += bytesRead
        budget -= bytesRead
        if (this.split(buffer.subarray(0, bytesRead))) added = true
      }
      return added
    } catch {
      // Not there yet (k6 has not opened its outputs) or unreadable: nothing new this time.
      return false
    }
  }

  /** Splits new bytes into lines; complete lines become frames. */
  private split(chunk: Buffer): boolean {
    let added = false
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(0x0a, start)
      const end = nl === -1 ? chunk.length : nl
      if (!this.skipping) {
        if (this.partialBytes + (end - start) > this.limits.maxLineBytes) {
          this.skipping = true
          this.partial = []
          this.partialBytes = 0
        } else if (end > start) {
          // Copied: the read buffer is reused.
          this.partial.push(Buffer.from(chunk.subarray(start, end)))
          this.partialBytes += end - start
        }
      }
      if (nl === -1) return added
      if (!this.skipping && this.partialBytes > 0 && this.accept(Buffer.concat(this.partial, this.partialBytes).toString('utf8'))) added = true
      this.partial = []
      this.partialBytes = 0
      this.skipping = false
      start = nl + 1
    }
  }

  private accept(line: string): boolean {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      return false
    }
    const parsed = metricFrameSchema.safeParse(this.redact.needles.length > 0 ? redactJson(value, this.redact) : value)
    if (!parsed.success) return false
    let frame = parsed.data
    let json = JSON.stringify(frame)
    if (Buffer.byteLength(json) > this.limits.maxFrameBytes) {
      frame = { ...frame, series: frame.series.filter((s) => s.tags === undefined && s.overflow !== true), reduced: true }
      json = JSON.stringify(frame)
      if (Buffer.byteLength(json) > this.limits.maxFrameBytes) return false
    }
    const packed = packFrame(frame, json)
    this.window.push({ frame: packed, bytes: packed.gz.length, at: this.now() })
    let total = this.window.reduce((n, h) => n + h.bytes, 0)
    while (this.window.length > this.limits.maxFrames || (this.window.length > 1 && total > this.limits.maxBytes)) {
      total -= this.window.shift()!.bytes
    }
    return true
  }
}
