import net from 'node:net'
import path from 'node:path'
import os from 'node:os'
import { mkdtemp } from 'node:fs/promises'
import { Connection } from '@temporalio/client'
import { resolveTool } from '@stampede/tools'
import { describe, expect, it } from 'vitest'
import { startTemporalDevServer } from './temporal.ts'

function canConnect(address: string): Promise<boolean> {
  const [host, port] = address.split(':')
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe('Temporal dev server', () => {
  it('starts, accepts a client connection, and stops', { timeout: 120_000 }, async () => {
    // Needs the pinned binary (`npm run tools` puts it in .tools/bin); never builds here.
    const temporal = await resolveTool('temporal', { allowBuild: false })
    const lines: string[] = []
    const server = await startTemporalDevServer({ binPath: temporal.path, log: (l) => lines.push(l) })
    try {
      expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(server.namespace).toBe('default')
      expect(server.uiUrl).toBeUndefined()
      const connection = await Connection.connect({ address: server.address })
      try {
        const ns = await connection.workflowService.describeNamespace({ namespace: 'default' })
        expect(ns.namespaceInfo?.name).toBe('default')
      } finally {
        await connection.close()
      }
    } finally {
      await server.stop()
    }
    expect(await canConnect(server.address)).toBe(false)
    expect(lines.join('\n')).not.toMatch(/exited unexpectedly/)
  })

  it('creates an extra namespace, persists to a db file and serves the UI when asked', { timeout: 120_000 }, async () => {
    const temporal = await resolveTool('temporal', { allowBuild: false })
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-temporal-'))
    const server = await startTemporalDevServer({
      binPath: temporal.path,
      namespace: 'stampede-test',
      uiPort: 0,
      dbFile: path.join(dir, 'state', 'temporal.db'),
    })
    try {
      expect(server.namespace).toBe('stampede-test')
      expect(server.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const res = await fetch(server.uiUrl!)
      expect(res.status).toBe(200)
    } finally {
      await server.stop()
    }
  })

  it('reports the server output when it cannot start', { timeout: 60_000 }, async () => {
    const temporal = await resolveTool('temporal', { allowBuild: false })
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as net.AddressInfo).port
    try {
      await expect(startTemporalDevServer({ binPath: temporal.path, port })).rejects.toThrow(/exited before it was ready/)
    } finally {
      blocker.close()
    }
  })
})
