// The SDK and the API's version: the comparison (what a difference means), and the client's
// check against a fake fetch: once per client, a warning once for a newer API, and a refusal
// naming both versions for an API of another compatibility level.
import { readFile } from 'node:fs/promises'
import { describe, expect, it, vi } from 'vitest'
import { createStampedeClient } from './client.ts'
import { StampedeConnectionError, StampedeVersionError } from './errors.ts'
import { API_COMPAT, compareWithApi, parseVersion, SDK_IDENTITY, SDK_VERSION } from './version.ts'

describe('SDK_VERSION', () => {
  it('is the version in packages/sdk/package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }
    expect(SDK_VERSION).toBe(pkg.version)
    expect(parseVersion(SDK_VERSION)).not.toBeNull()
  })
})

describe('parseVersion', () => {
  it('reads major.minor.patch, with a v, a pre-release or a build suffix; null for anything else', () => {
    expect(parseVersion('1.2.3')).toEqual({ major: 1, minor: 2, patch: 3 })
    expect(parseVersion('v10.20.30-rc.1+build.5')).toEqual({ major: 10, minor: 20, patch: 30 })
    for (const bad of ['', '1.2', '1.2.x', 'latest', '1.2.3.4']) expect(parseVersion(bad), bad).toBeNull()
  })
})

describe('compareWithApi', () => {
  const client = { version: '1.4.2', apiCompat: 3, what: '@stampede/sdk', upgrade: 'npm install @stampede/sdk@latest' }
  const verdict = (version: string, apiCompat = 3) => compareWithApi({ version, apiCompat }, 'https://api.example', client).kind

  it('says nothing for the same, an older or a patch-newer API', () => {
    expect(verdict('1.4.2')).toBe('ok')
    expect(verdict('1.4.9')).toBe('ok')
    expect(verdict('1.3.0')).toBe('ok')
    expect(verdict('0.9.0')).toBe('ok')
    expect(verdict('1.4.3-rc.1')).toBe('ok')
    // A version it cannot read is no reason to stop.
    expect(verdict('nightly')).toBe('ok')
  })

  it('warns for an API newer by a minor or a major version', () => {
    expect(verdict('1.5.0')).toBe('newer')
    expect(verdict('2.0.0')).toBe('newer')
    const v = compareWithApi({ version: '1.5.0', apiCompat: 3 }, 'https://api.example', client)
    expect(v).toEqual({
      kind: 'newer',
      message: 'the Stampede API at https://api.example is version 1.5.0, newer than @stampede/sdk 1.4.2: what the API added since 1.4 is not available here; upgrade @stampede/sdk (npm install @stampede/sdk@latest).',
    })
  })

  it('refuses another compatibility level, whatever the versions, naming both and the fix', () => {
    expect(verdict('1.4.2', 4)).toBe('incompatible')
    expect(verdict('1.4.2', 2)).toBe('incompatible')
    const newer = compareWithApi({ version: '2.0.0', apiCompat: 4 }, 'https://api.example', client)
    expect(newer.kind === 'incompatible' && newer.message).toBe(
      '@stampede/sdk 1.4.2 cannot work with the Stampede API at https://api.example: the API is version 2.0.0 (API compatibility level 4) and this client was built for level 3. ' +
        'Upgrade @stampede/sdk to a version made for API 2.0.0 (npm install @stampede/sdk@latest).',
    )
    const older = compareWithApi({ version: '0.9.0', apiCompat: 2 }, 'https://api.example', client)
    expect(older.kind === 'incompatible' && older.message).toMatch(/the API is version 0\.9\.0 .*The API is older than this client: install a @stampede\/sdk version made for API 0\.9\.0, or upgrade the API\.$/)
  })

  it('compares with this SDK by default', () => {
    expect(SDK_IDENTITY).toMatchObject({ version: SDK_VERSION, apiCompat: API_COMPAT })
    expect(compareWithApi({ version: SDK_VERSION, apiCompat: API_COMPAT }, 'http://x').kind).toBe('ok')
  })
})

/** A fetch answering tRPC's plain-JSON protocol from `answers` (null: NOT_FOUND); records the procedures called. */
function fakeFetch(answers: Record<string, unknown>) {
  const calls: string[] = []
  const fetch = (async (input: string | URL | Request) => {
    const procedure = new URL(String(input)).pathname.replace(/^\/trpc\//, '')
    calls.push(procedure)
    const data = answers[procedure]
    if (data === undefined || data === null) {
      return new Response(JSON.stringify({ error: { message: `No procedure found on path "${procedure}"`, code: -32004, data: { code: 'NOT_FOUND', httpStatus: 404, path: procedure } } }), { status: 404, headers: { 'content-type': 'application/json' } })
    }
    return new Response(JSON.stringify({ result: { data } }), { headers: { 'content-type': 'application/json' } })
  }) as typeof globalThis.fetch
  return { fetch, calls }
}

describe('createStampedeClient and the API\'s version', () => {
  it('refuses an API of another compatibility level: every call rejects with StampedeVersionError, and none is sent', async () => {
    const { fetch, calls } = fakeFetch({ 'meta.version': { version: '9.0.0', apiCompat: API_COMPAT + 1 }, 'locations.list': [] })
    const client = createStampedeClient({ url: 'http://api.test', fetch, onWarning: () => {} })
    const err = await client.locations.list.query().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StampedeVersionError)
    expect(err).toMatchObject({ apiVersion: '9.0.0', apiCompat: API_COMPAT + 1, clientVersion: SDK_VERSION, clientApiCompat: API_COMPAT })
    expect((err as Error).message).toContain(`@stampede/sdk ${SDK_VERSION} cannot work with the Stampede API at http://api.test: the API is version 9.0.0`)
    expect((err as Error).message).toContain('npm install @stampede/sdk@latest')
    await expect(client.runs.byId.query({ id: '00000000-0000-4000-8000-000000000001' })).rejects.toBeInstanceOf(StampedeVersionError)
    await expect(client.checkVersion()).rejects.toBeInstanceOf(StampedeVersionError)
    // Asked once; nothing else went out.
    expect(calls).toEqual(['meta.version'])
  })

  it('warns once for a newer API and goes on; checks once per client', async () => {
    const { fetch, calls } = fakeFetch({ 'meta.version': { version: '99.1.0', apiCompat: API_COMPAT }, 'locations.list': [] })
    const warnings: string[] = []
    const client = createStampedeClient({ url: 'http://api.test', fetch, onWarning: (m) => warnings.push(m) })
    expect(await client.locations.list.query()).toEqual([])
    expect(await client.locations.list.query()).toEqual([])
    expect(await client.checkVersion()).toEqual({ version: '99.1.0', apiCompat: API_COMPAT })
    expect(warnings).toEqual([expect.stringMatching(/^the Stampede API at http:\/\/api\.test is version 99\.1\.0, newer than @stampede\/sdk /)])
    expect(calls).toEqual(['meta.version', 'locations.list', 'locations.list'])
  })

  it('checks on an explicit checkVersion() and says nothing for the same version', async () => {
    const { fetch, calls } = fakeFetch({ 'meta.version': { version: SDK_VERSION, apiCompat: API_COMPAT } })
    const warnings: string[] = []
    const client = createStampedeClient({ url: 'http://api.test', fetch, onWarning: (m) => warnings.push(m) })
    expect(await client.checkVersion()).toEqual({ version: SDK_VERSION, apiCompat: API_COMPAT })
    expect(warnings).toEqual([])
    expect(calls).toEqual(['meta.version'])
  })

  it('warns once and goes on for an API without meta.version (older than versioning)', async () => {
    const { fetch, calls } = fakeFetch({ 'meta.version': null, 'locations.list': [] })
    const warnings: string[] = []
    const client = createStampedeClient({ url: 'http://api.test', fetch, onWarning: (m) => warnings.push(m) })
    await client.locations.list.query()
    await client.locations.list.query()
    expect(await client.checkVersion()).toBeNull()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('does not report its version')
    expect(calls).toEqual(['meta.version', 'locations.list', 'locations.list'])
  })

  it('lets the call report its own error when the check cannot reach the API, and asks again next time', async () => {
    let up = false
    const calls: string[] = []
    const fetch = (async (input: string | URL | Request) => {
      const procedure = new URL(String(input)).pathname.replace(/^\/trpc\//, '')
      calls.push(procedure)
      if (!up) throw new TypeError('fetch failed')
      return new Response(JSON.stringify({ result: { data: procedure === 'meta.version' ? { version: SDK_VERSION, apiCompat: API_COMPAT } : [] } }), { headers: { 'content-type': 'application/json' } })
    }) as typeof globalThis.fetch
    const client = createStampedeClient({ url: 'http://api.test', fetch })
    const err = await client.locations.list.query().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StampedeConnectionError)
    expect((err as Error).message).toContain('(locations.list)')
    up = true
    expect(await client.locations.list.query()).toEqual([])
    expect(calls).toEqual(['meta.version', 'locations.list', 'meta.version', 'locations.list'])
  })

  it('warns with console.warn by default', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const { fetch } = fakeFetch({ 'meta.version': { version: '99.0.0', apiCompat: API_COMPAT }, 'locations.list': [] })
      await createStampedeClient({ url: 'http://api.test', fetch }).locations.list.query()
      expect(warn).toHaveBeenCalledTimes(1)
      expect(warn.mock.calls[0]![0]).toMatch(/^@stampede\/sdk: the Stampede API at http:\/\/api\.test is version 99\.0\.0/)
    } finally {
      warn.mockRestore()
    }
  })

  it('checks nothing with versionCheck: false', async () => {
    const { fetch, calls } = fakeFetch({ 'meta.version': { version: '99.0.0', apiCompat: API_COMPAT + 1 }, 'locations.list': [] })
    const client = createStampedeClient({ url: 'http://api.test', fetch, versionCheck: false })
    expect(await client.locations.list.query()).toEqual([])
    expect(calls).toEqual(['locations.list'])
  })
})
