// Starting points users pick from: each a commented k6 script for one kind of test, taking its
// target from __ENV.BASE_URL (or __ENV.WS_URL) with a public demo default.
import { TEMPLATE_SOURCES } from './scripts.generated.ts'

export interface Template {
  id: string
  name: string
  description: string
  /** The file the script lives in (under src/templates/scripts). */
  file: string
  script: string
}

const META: Omit<Template, 'script'>[] = [
  { id: 'smoke', file: 'smoke.js', name: 'Smoke test', description: 'One VU for 10 seconds: proves the script works and the system answers before any real load.' },
  { id: 'average-load', file: 'average-load.js', name: 'Average load', description: 'Ramp up to typical daily traffic, hold it for three minutes, ramp down; thresholds as SLOs.' },
  { id: 'ramping-vus', file: 'ramping-vus.js', name: 'Ramping VUs (scenario)', description: 'The ramping-vus executor as a named scenario, with a threshold on the scenario\'s own requests.' },
  { id: 'spike', file: 'spike.js', name: 'Spike test', description: 'A sudden surge to 200 VUs and back: does the system survive and recover?' },
  { id: 'stress', file: 'stress.js', name: 'Stress test', description: 'Load well above average for minutes, aborting early once the system is overwhelmed.' },
  { id: 'soak', file: 'soak.js', name: 'Soak test', description: 'Average load for most of an hour, to surface leaks and slow degradation.' },
  { id: 'breakpoint', file: 'breakpoint.js', name: 'Breakpoint (arrival rate)', description: 'An open model: iterations per second rise until thresholds break; that rate is the capacity.' },
  { id: 'thresholds-checks', file: 'thresholds-checks.js', name: 'Thresholds and checks', description: 'Checks per response, thresholds per endpoint with tags and submetrics, custom Counter, Rate and Trend.' },
  { id: 'api-crud', file: 'api-crud.js', name: 'API CRUD flow with groups', description: 'Create, read, update and delete a resource per iteration, each step a group with tagged requests.' },
  { id: 'websocket', file: 'websocket.js', name: 'WebSocket echo', description: 'Each VU opens a socket (k6/ws), sends messages, counts the echoes and closes.' },
]

export const TEMPLATES: readonly Template[] = META.map((m) => {
  const script = TEMPLATE_SOURCES[m.file]
  if (script === undefined) throw new Error(`template ${m.id}: ${m.file} is missing from scripts.generated.ts; run generate.ts`)
  return { ...m, script }
})

export const templateById = (id: string): Template | undefined => TEMPLATES.find((t) => t.id === id)
