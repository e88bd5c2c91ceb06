// One create-and-read-back scenario of the Prisma client.
import { expect } from 'vitest'
import type { Db } from '../src/index.ts'

export async function roundTrip(db: Db): Promise<void> {
  const location = await db.location.create({ data: { id: 'local', name: 'Local', region: 'on-prem' } })
  // The migrations create the project existing rows move into.
  const project = await db.project.findFirstOrThrow({ where: { name: 'Default' } })
  const test = await db.test.create({ data: { projectId: project.id, name: 'checkout', script: 'export default function () {}' } })
  expect(test.id).toMatch(/^[0-9a-f-]{36}$/)
  expect(test).toMatchObject({ description: '', type: 'load' })

  const thresholds = [{ metric: 'http_req_duration', expression: 'p(95)<500', ok: true }]
  const dataSent = 9_007_199_254_740_993n // above Number.MAX_SAFE_INTEGER: must survive as a BigInt
  const run = await db.run.create({
    data: {
      projectId: project.id,
      testId: test.id,
      script: test.script,
      locationId: location.id,
      trigger: 'manual',
      workflowId: `run-${test.id}`,
      timeoutSeconds: 600,
      thresholds,
      dataSent,
      httpReqDurationP95: 123.5,
    },
  })
  expect(run.status).toBe('queued')
  expect(run.createdAt).toBeInstanceOf(Date)

  const read = await db.run.findUniqueOrThrow({ where: { id: run.id }, include: { test: true, location: true } })
  expect(read.dataSent).toBe(dataSent)
  expect(read.thresholds).toEqual(thresholds)
  expect(read.httpReqDurationP95).toBe(123.5)
  expect(read.test?.name).toBe('checkout')
  expect(read.location).toMatchObject({ id: 'local', region: 'on-prem' })

  const withRuns = await db.test.findUniqueOrThrow({ where: { id: test.id }, include: { runs: true } })
  expect(withRuns.runs.map((r) => r.id)).toEqual([run.id])
}
