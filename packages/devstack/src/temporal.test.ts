import net from 'node:net'
import path from 'node:path'
import os from 'node:os'
import { randomUUID } from 'node:crypto'
import { chmod, mkdtemp, readFile, readdir, readlink, writeFile } from 'node:fs/promises'
import { Client, Connection } from '@temporalio/client'
import { resolveTool } from '@stampede/tools'
import { describe, expect, it } from 'vitest'
import { startTemporalDevServer } from './temporal.ts'

/** The platform's reserved loopback address, where the embedded services listen on Linux. */
const HOST = '127.77.0.1'

/** The TCP sockets process `pid` listens on, read from /proc (what `ss -ltnp` shows for it). */
async function listeningSockets(pid: number): Promise<{ address: string; port: number }[]> {
  const inodes = new Set<string>()
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1]
    if (inode) inodes.add(inode)
  }
  const out: { address: string; port: number }[] = []
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of (await readFile(file, 'utf8')).split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/)
      if (fields[3] !== '0A' || !inodes.has(fields[9] ?? '')) continue // 0A: LISTEN
      const [hex = '', portHex = ''] = (fields[1] ?? '').split(':')
      const address =
        hex.length === 8
          ? [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.')
          : `ipv6:${hex}` // not expected; kept visible in a failure
      out.push({ address, port: parseInt(portHex, 16) })
    }
  }
  return out.sort((a, b) => a.port - b.port)
}

/** Connects, sends an HTTP/2 client preface and returns how many bytes came back before the
 * connection closed or went quiet; null when the connection was refused. */
function probe(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    let received = 0
    let connected = false
    const socket = net.connect({ host, port })
    const done = (value: number | null) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(value)
    }
    const timer = setTimeout(() => done(received), 3_000)
    socket.once('connect', () => {
      connected = true
      socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00')
    })
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length
      done(received)
    })
    socket.once('error', () => done(connected ? received : null))
    socket.once('close', () => done(connected ? received : null))
  })
}

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
      // Without a host, the dev server listens on 127.0.0.1 as Temporal's own default would.
      expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(server.host).toBe('127.0.0.1')
      expect((await listeningSockets(server.pid)).every((s) => s.address === '127.0.0.1')).toBe(true)
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
      host: HOST,
      namespace: 'stampede-test',
      uiPort: 0,
      dbFile: path.join(dir, 'state', 'temporal.db'),
    })
    try {
      expect(server.namespace).toBe('stampede-test')
      expect(server.uiUrl).toMatch(/^http:\/\/127\.77\.0\.1:\d+$/)
      const res = await fetch(server.uiUrl!)
      expect(res.status).toBe(200)
    } finally {
      await server.stop()
    }
  })

  it('reports the server output when it cannot start', { timeout: 60_000 }, async () => {
    const temporal = await resolveTool('temporal', { allowBuild: false })
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, HOST, resolve))
    const port = (blocker.address() as net.AddressInfo).port
    try {
      await expect(startTemporalDevServer({ binPath: temporal.path, host: HOST, port })).rejects.toThrow(/exited before it was ready[\s\S]*address already in use/)
    } finally {
      blocker.close()
    }
  })

  it('starts again when the server crashed before it was ready, and a crash that repeats names its cause from the top of its output', { timeout: 120_000 }, async () => {
    const temporal = await resolveTool('temporal', { allowBuild: false })
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stampede-temporal-crash-'))
    // The dev server as a Go panic looks on a busy machine: the cause on the first line, then a
    // stack far longer than the output kept; here `crashes` times, then the real server.
    const wrapper = async (crashes: number) => {
      const file = path.join(dir, `temporal-${crashes}.sh`)
      const count = path.join(dir, `count-${crashes}`)
      await writeFile(
        file,
        // Only the server's starts count (the readiness checks run the same CLI).
        `#!/bin/sh\n[ "$1" = server ] || exec ${temporal.path} "$@"\nn=$(cat ${count} 2>/dev/null || echo 0)\necho $((n + 1)) > ${count}\n` +
          `if [ "$n" -lt ${crashes} ]; then echo "panic: listen tcp 127.0.0.1:7235: bind: address already in use (start $((n + 1)))" >&2; i=0; while [ $i -lt 200 ]; do echo "\tgo.uber.org/fx.runInvoke frame $i" >&2; i=$((i + 1)); done; exit 2; fi\n` +
          `exec ${temporal.path} "$@"\n`,
      )
      await chmod(file, 0o755)
      return { file, starts: async () => Number(await readFile(count, 'utf8')) }
    }
    const once = await wrapper(1)
    const logged: string[] = []
    const server = await startTemporalDevServer({ binPath: once.file, host: HOST, log: (line) => logged.push(line) })
    try {
      expect(await once.starts()).toBe(2)
      expect(logged.join('\n')).toMatch(/exited before it was ready \(exit code 2\):\npanic: listen tcp[^\n]*\(start 1\)[\s\S]*lines left out[\s\S]*frame 199\n\(attempt 1 of 3; starting the Temporal dev server again\)/)
    } finally {
      await server.stop()
    }
    const always = await wrapper(3)
    await expect(startTemporalDevServer({ binPath: always.file, host: HOST })).rejects.toThrow(/exited before it was ready \(exit code 2\):\npanic: listen tcp[^\n]*\(start 3\)/)
    expect(await always.starts()).toBe(3)
  })

  it('refuses a host that is not an IP address, naming the option', async () => {
    await expect(startTemporalDevServer({ binPath: '/nonexistent/temporal', host: 'localhost' })).rejects.toThrow(
      'host: "localhost" is not an IP address; give the address the Temporal dev server should listen on, such as 127.77.0.1',
    )
  })

  it("listens only on the platform's address, and its services still reach each other", { timeout: 120_000 }, async () => {
    const temporal = await resolveTool('temporal', { allowBuild: false })
    const lines: string[] = []
    const server = await startTemporalDevServer({ binPath: temporal.path, host: HOST, uiPort: 0, log: (l) => lines.push(l) })
    const connection = await Connection.connect({ address: server.address })
    try {
      expect(server.host).toBe(HOST)
      expect(server.address).toMatch(/^127\.77\.0\.1:\d+$/)
      const frontendPort = Number(server.address.split(':')[1])
      const uiPort = Number(new URL(server.uiUrl!).port)

      // Every socket the dev server listens on: frontend gRPC and HTTP, UI, metrics, history, matching.
      const sockets = await listeningSockets(server.pid)
      expect(sockets.length, JSON.stringify(sockets)).toBeGreaterThanOrEqual(6)
      expect(sockets.filter((s) => s.address !== HOST), JSON.stringify(sockets)).toEqual([])
      expect(sockets.map((s) => s.port)).toEqual(expect.arrayContaining([frontendPort, uiPort]))

      // A workflow starts (frontend → history) and its task queue answers (frontend → matching):
      // the services reach each other although they listen only on HOST.
      const client = new Client({ connection })
      const handle = await client.workflow.start('NoSuchWorkflow', { taskQueue: 'bridge-check', workflowId: `bridge-${randomUUID()}` })
      expect((await handle.describe()).status.name).toBe('RUNNING')
      const queue = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: 'bridge-check' }, taskQueueType: 1 })
      expect(queue.pollers).toEqual([])
      await handle.terminate()

      // Nothing of the dev server answers on 127.0.0.1: each port is refused, or (where the
      // services reach each other) closed before a byte comes back; on HOST, gRPC answers.
      for (const { port } of sockets) {
        expect((await probe('127.0.0.1', port)) ?? 0, `127.0.0.1:${port}`).toBe(0)
      }
      expect(await probe(HOST, frontendPort)).toBeGreaterThan(0)
      const bridged = lines.filter((l) => /^closed a connection to 127\.0\.0\.1:\d+ \(the Temporal dev server's (history|matching) service\) that another process opened/.test(l))
      expect(bridged).toHaveLength(2)
      for (const port of bridged.map((l) => Number(/127\.0\.0\.1:(\d+)/.exec(l)![1]))) {
        // The bridged service itself answers on HOST.
        expect(await probe(HOST, port)).toBeGreaterThan(0)
      }
      expect(lines.join('\n')).not.toMatch(/connection refused/)
    } finally {
      await connection.close()
      await server.stop()
    }
    // The bridges close with the server.
    expect(await listeningSockets(process.pid).then((own) => own.filter((s) => s.address === '127.0.0.1'))).toEqual([])
  })
})
