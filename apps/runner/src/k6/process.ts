// The one narrow boundary around the k6 process: start a sandbox plan, hand every output line to
// a callback as it arrives, wait for the exit, and signal k6. Unit tests fake this function;
// integration tests use the real sandbox and k6.
import { spawnPlan, type ProcessExit, type SpawnPlan } from '@stampede/sandbox'
import type { ConsoleStream } from '@stampede/shared'

export interface K6ProcessOptions {
  plan: SpawnPlan
  onLine: (stream: ConsoleStream, text: string) => void
  /** Resident memory k6 may use before it is killed. */
  maxRssBytes?: number
}

export type K6Exit = ProcessExit

export interface K6Process {
  readonly pid: number | undefined
  /** Resolves once k6 exited and both output streams are drained. */
  readonly exited: Promise<K6Exit>
  signal(sig: NodeJS.Signals): void
}

export type SpawnK6 = (opts: K6ProcessOptions) => K6Process

export const spawnK6: SpawnK6 = ({ plan, onLine, maxRssBytes }) => spawnPlan(plan, { onLine, ...(maxRssBytes === undefined ? {} : { maxRssBytes }) })
