// Locations are configuration, not code: a deployment names where load can come from. The
// defaults below cover a single-machine install; LOCATIONS overrides them everywhere at once.
import { z } from 'zod'

export const locationIdSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'must be a location id: 1-40 lowercase letters, digits or dashes, e.g. "us-east"')

export interface LocationConfig {
  id: string
  name: string
  region: string
}

export const DEFAULT_LOCATIONS: readonly LocationConfig[] = [
  { id: 'us-east', name: 'US East', region: 'Virginia' },
  { id: 'eu-central', name: 'EU Central', region: 'Frankfurt' },
  { id: 'asia-pacific', name: 'Asia Pacific', region: 'Singapore' },
]

/**
 * Parses the LOCATIONS setting: comma-separated `id:Name:Region` entries, e.g.
 * `us-east:US East:Virginia,eu-central:EU Central:Frankfurt`. Name and region are optional.
 */
export function parseLocations(spec: string | undefined): LocationConfig[] {
  if (spec === undefined || spec.trim() === '') return [...DEFAULT_LOCATIONS]
  const seen = new Set<string>()
  return spec.split(',').map((entry) => {
    const [rawId = '', name, region] = entry.split(':').map((part) => part.trim())
    const id = locationIdSchema.safeParse(rawId)
    if (!id.success) {
      throw new Error(`LOCATIONS entry "${entry.trim()}": ${id.error.issues[0]?.message ?? 'invalid id'}`)
    }
    if (seen.has(id.data)) throw new Error(`LOCATIONS names "${id.data}" twice; each location id must be unique`)
    seen.add(id.data)
    return { id: id.data, name: name || id.data, region: region || '' }
  })
}
