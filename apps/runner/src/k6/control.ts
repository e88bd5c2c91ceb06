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
