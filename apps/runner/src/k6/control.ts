// The runner holds a run's VU cap while it runs, through k6's own REST API: k6 starts paused
// (`--paused --address <addr>`), having initialised its VUs, so the runner reads `vus-max` before
// any load is sent and resumes only when it is within the cap; while the test runs, the runner
// reads `vus-max` again (arrival-rate scenarios initialise VUs on demand) and stops k6 when it
// grows past the cap. The options a script computes at run time (from the environment, the time
// or randomness) therefore cannot take it past the cap that validation checked.
//
// The REST API listens on an address of the platform's reserved loopback range, which the target
// policy refuses to every k6 script: no run can reach another run's k6.
import { randomInt } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { capsOwner, type ScriptCaps } from '@stampede/shared/caps'
import { PLATFORM_LOOPBACK_CIDR } from '@stampede/shared/targets'

export interface K6Status {
  /** k6's execution status (lib.ExecutionStatus): 4 = paused before the run, 7 = running, 9 = ended. */
  status: number
  paused: boolean
  vus: number
  vusMax: number
  running: boolean
}

export interface K6Control {
  readonly address: string
  /** k6's status, or undefined while its REST API does not answer (not started yet, or gone). */
  status(): Promise<K6Status | undefined>
  /** Ends the pause `--paused` started k6 in. */
  resume(): Promise<void>
}

/** k6's execution status once it initialised its VUs and waits for the resume. */
export const PAUSED_BEFORE_RUN = 4

const REQUEST_TIMEOUT_MS = 2000
const REST_PORT = 6565

/** A fresh address for one k6's REST API: a random address of the reserved loopback range. */
export function controlAddress(): string {
  const [base = '127.77.0.0'] = PLATFORM_LOOPBACK_CIDR.split('/')
  const [a, b] = base.split('.')
  // x.y.0.1 is the platform's own services' address; k6 gets the rest of the range.
  return `${a}.${b}.${randomInt(1, 255)}.${randomInt(2, 255)}:${REST_PORT}`
}

export function httpControl(address: string): K6Control {
  const url = `http://${address}/v1/status`
  return {
    address,
    async status() {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
        if (!res.ok) return undefined
        const body = (await res.json()) as { data?: { attributes?: Record<string, unknown> } }
        const a = body.data?.attributes ?? {}
        return {
          status: Number(a.status),
          paused: a.paused === true,
          vus: Number(a.vus ?? 0),
          vusMax: Number(a['vus-max'] ?? 0),
          running: a.running === true,
        }
      } catch {
        return undefined
      }
    },
    async resume() {
      const res = await fetch(url, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: { type: 'status', id: 'default', attributes: { paused: false } } }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
      if (!res.ok) throw new Error(`k6 refused to resume: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`)
    },
  }
}

/**
 * Holds the VU cap through k6's REST API (see the top of this file): before the load starts, k6 waits
 * paused with its VUs initialised, and is resumed only within the cap; while it runs, `vus-max`
 * is read every `everyMs` and k6 is stopped when it grows past the cap.
 */
export function holdCaps(
  control: K6Control,
  caps: ScriptCaps,
  hooks: { stop: (why: 'limit', message: string, opts?: { now?: boolean }) => void; loadStarted: () => void; log: (m: string) => void; everyMs: number },
): { stop(): void } {
  let stopped = false
  const whose = capsOwner(caps)
  const watch = async () => {
    for (;;) {
      if (stopped) return
      const status = await control.status()
      if (status && status.status >= PAUSED_BEFORE_RUN) {
        if (status.vusMax > caps.maxVUs) {
          return hooks.stop(
            'limit',
            `The script started ${status.vusMax} VUs at run time; ${whose} allows at most ${caps.maxVUs}. k6 was stopped before sending any load. Its options differ from what validation saw: do not compute them from the environment, the time or randomness.`,
            { now: true },
          )
        }
        if (status.paused) await control.resume()
        break
      }
      // k6 is ready within ~70 ms of its start; polling its local REST API this often costs nothing.
      await sleep(5)
    }
    hooks.loadStarted()
    while (!stopped) {
      await sleep(hooks.everyMs)
      if (stopped) return
      const status = await control.status()
      if (status && status.vusMax > caps.maxVUs) {
        return hooks.stop('limit', `The script reached ${status.vusMax} VUs while running; ${whose} allows at most ${caps.maxVUs}. The run was stopped.`)
      }
    }
  }
  watch().catch((err: unknown) => {
    if (stopped) return
    hooks.log(`could not hold the run's caps: ${err instanceof Error ? err.message : String(err)}`)
    hooks.stop('limit', 'The runner lost control of k6 (its REST API stopped answering), so the run\'s caps could not be held; it was stopped.')
  })
  return {
    stop() {
      stopped = true
    },
  }
}
