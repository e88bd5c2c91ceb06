// The API's version: the `version` of apps/api/package.json, read once at start (the API runs
// from this checkout, so the file is always beside the source). Reported by /healthz and the
// public `meta.version` procedure, with API_COMPAT (packages/shared/src/version.ts).
import { readFileSync } from 'node:fs'
import { API_COMPAT, type ApiVersionInfo } from '@stampede/shared'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown }
if (typeof pkg.version !== 'string') throw new Error('apps/api/package.json has no version')

export const API_VERSION: string = pkg.version
export const API_VERSION_INFO: ApiVersionInfo = { version: API_VERSION, apiCompat: API_COMPAT }
