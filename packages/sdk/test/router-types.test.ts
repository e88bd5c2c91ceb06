// The packed SDK's router declarations (scripts/router-types.ts) against the real router: for every
// procedure, the input and the output a client sees must be the same types both ways (each
// assignable to the other), and the two routers must have the same procedures. So the printed
// types can neither drift from the API nor lose a field, an optional mark or a union member.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateRouterTypes, type RouterTypes } from '../scripts/router-types.ts'
import { typeCheck } from './tsc.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const pkg = path.resolve(here, '..')
let dir: string
let generated: RouterTypes

beforeAll(async () => {
  dir = await mkdtemp(path.join(pkg, 'test/.router-types-'))
  generated = generateRouterTypes(pkg)
  await writeFile(path.join(dir, 'router.ts'), generated.text)
}, 120_000)
afterAll(() => rm(dir, { recursive: true, force: true }))

async function compile(checks: string): Promise<{ code: number; output: string }> {
  const file = path.join(dir, 'same.ts')
  await writeFile(file, checks)
  return typeCheck(dir, [file])
}

const header = `import type { AppRouter as Source } from '@stampede/api'
import type { AppRouter as Packed } from './router.ts'
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server'
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Assert<T extends true> = T
type SI = inferRouterInputs<Source>
type PI = inferRouterInputs<Packed>
type SO = inferRouterOutputs<Source>
type PO = inferRouterOutputs<Packed>
`

describe('the packed router types', () => {
  it('name every procedure of the API', () => {
    expect(generated.procedures).toContain('runs.start')
    expect(generated.procedures).toContain('meta.version')
    expect(generated.text).not.toMatch(/@stampede\/|@prisma|fastify|temporalio/)
  })

  it('give every procedure the input and output of the real router, and no other procedure', async () => {
    const lines = [header]
    for (const [i, p] of generated.procedures.entries()) {
      const at = p.split('.').map((k) => `[${JSON.stringify(k)}]`).join('')
      lines.push(`export type I${i} = Assert<Same<SI${at}, PI${at}>> // ${p} input`)
      lines.push(`export type O${i} = Assert<Same<SO${at}, PO${at}>> // ${p} output`)
    }
    // The same procedure paths on both sides: flatten each router's record to dotted keys.
    lines.push(`type Paths<R, P extends string = ''> = { [K in keyof R & string]: R[K] extends { _def: { $types: unknown } } ? \`\${P}\${K}\` : Paths<R[K], \`\${P}\${K}.\`> }[keyof R & string]`)
    lines.push(`export type SamePaths = Assert<Same<Paths<Source['_def']['record']>, Paths<Packed['_def']['record']>>>`)
    const result = await compile(lines.join('\n') + '\n')
    expect(result.output).toBe('')
    expect(result.code).toBe(0)
  }, 120_000)

  it('catch a difference: a router with one output field less fails the check', async () => {
    const broken = generated.text.replace(/(export type RunDto = \{\n(?:.*\n)*?)\s+durationMs: [^\n]+\n/, '$1\n')
    expect(broken).not.toBe(generated.text)
    await writeFile(path.join(dir, 'router.ts'), broken)
    try {
      const result = await compile(`${header}export type Check = Assert<Same<SO['runs']['byId'], PO['runs']['byId']>>\n`)
      expect(result.code).not.toBe(0)
      expect(result.output).toMatch(/error TS2344/)
    } finally {
      await writeFile(path.join(dir, 'router.ts'), generated.text)
    }
  }, 120_000)
})
