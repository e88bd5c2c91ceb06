// Metric frames as heartbeats carry them, packed: the runner gzips each frame's JSON once, when
// it reads the frame, and every heartbeat of the next few seconds carries those bytes.
//
// Why: a frame is 10–40 KB of JSON for an ordinary script and each rides on about three
// heartbeats, so unpacked frames made the runner serialise, Temporal store in the activity's
// state (one write per heartbeat) and the API parse on every read 30–100 KB a second per run.
// Gzipped they are about a fifth of that, compressed once instead of serialised three times, and
// the API unpacks only the frames newer than those it has.
//
// Node only (node:zlib): the workflow bundle and the web never import this module.
import { constants, gunzipSync, gzipSync } from 'node:zlib'
import { metricFrameSchema, type MetricFrame } from './metric-frames.ts'
import type { PackedFrame } from './temporal.ts'

/**
 * What one heartbeat carries at most: the runner's frame window keeps to it (FrameTail's default
 * limits are these) and the API unpacks no more, so a runner that sends more (a hostile one) costs
 * the API at most `frames` × `frameBytes` of gunzip per heartbeat, never the 100 MiB that its
 * payload could hold as gzip bombs.
 */
export const HEARTBEAT_FRAMES = {
  /** Packed frames in one heartbeat (the newest; older ones rode on earlier heartbeats). */
  frames: 5,
  /** Bytes of one frame's JSON, unpacked: a larger frame goes out reduced to its totals. */
  frameBytes: 256 * 1024,
} as const

/** Packs a frame; `json` is its JSON when the caller has it already. */
export function packFrame(frame: MetricFrame, json: string = JSON.stringify(frame)): PackedFrame {
  return { start: frame.start, gz: gzipSync(json, { level: constants.Z_BEST_SPEED }).toString('base64') }
}

/**
 * The frame a packed frame holds; undefined when it holds none: not base64 gzip, more than
 * `maxBytes` unpacked (it is not unpacked past that), not a frame, or not the period it names.
 */
export function unpackFrame(packed: PackedFrame, maxBytes: number = HEARTBEAT_FRAMES.frameBytes): MetricFrame | undefined {
  try {
    const json = gunzipSync(Buffer.from(packed.gz, 'base64'), { maxOutputLength: maxBytes }).toString('utf8')
    const frame = metricFrameSchema.safeParse(JSON.parse(json))
    return frame.success && frame.data.start === packed.start ? frame.data : undefined
  } catch {
    return undefined
  }
}
