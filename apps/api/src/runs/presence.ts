// Which locations have a runner polling now, from Temporal's own view of each location's
// activity task queue. Temporal remembers a poller for a while after its last poll, and an
// idle worker re-polls about once a minute, so "present" means polled within RECENT_MS.
import type { Client } from '@temporalio/client'
// @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot detect.
import proto from '@temporalio/proto'
import { taskQueueFor } from '@stampede/shared/temporal'

const { temporal } = proto

const RECENT_MS = 90_000
const CACHE_MS = 2_000

export interface LocationPresence {
  runnerAvailable: boolean
  pollers: number
}

export class RunnerPresence {
  private cache = new Map<string, { at: number; value: Promise<LocationPresence> }>()
  constructor(private readonly client: Client, private readonly namespace: string) {}

  of(locationId: string): Promise<LocationPresence> {
    const hit = this.cache.get(locationId)
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value
    const value = this.query(locationId)
    this.cache.set(locationId, { at: Date.now(), value })
    value.catch(() => this.cache.delete(locationId))
    return value
  }

  private async query(locationId: string): Promise<LocationPresence> {
    const res = await this.client.workflowService.describeTaskQueue({
      namespace: this.namespace,
      taskQueue: { name: taskQueueFor(locationId), kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    })
    const now = Date.now()
    const recent = (res.pollers ?? []).filter((p) => {
      const t = p.lastAccessTime
      if (!t?.seconds) return false
      const ms = Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)
      return now - ms < RECENT_MS
    })
    return { runnerAvailable: recent.length > 0, pollers: recent.length }
  }
}
