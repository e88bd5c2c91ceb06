// meta.version: the API's version (apps/api/package.json) and API_COMPAT, for anyone, without
// credentials or a database.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { API_COMPAT } from '@stampede/shared'
import type { Context } from '../context.ts'
import { API_VERSION } from '../version.ts'
import { createCaller } from './test-caller.ts'

describe('meta.version', () => {
  it('answers a caller without credentials with the package version and the compatibility level', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    expect(API_VERSION).toBe(pkg.version)
    expect(API_VERSION).toMatch(/^\d+\.\d+\.\d+/)
    // No database and no credentials: a public procedure needs neither.
    const anonymous = createCaller({ request: { address: 'test' }, trigger: 'api', setCookie: () => {} } as unknown as Context)
    expect(await anonymous.meta.version()).toEqual({ version: pkg.version, apiCompat: API_COMPAT })
  })
})
