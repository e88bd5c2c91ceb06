// Temporal's dev server (`temporal server start-dev`) as a child process for `npm run dev` and
// integration tests. Ready means the frontend answers a namespace describe through the same CLI,
// which proves gRPC is up and the namespace is registered, not merely that a port is open.
//
// Every socket the server listens on — frontend gRPC and HTTP, the web UI, metrics, and the
// internal history, matching and worker services — is bound to `host` (`--ip`). In single-machine
// mode that is the platform's reserved loopback address, which k6 can never reach.
//
// One quirk of Temporal CLI v1.5.1 needs a bridge: its dev server binds its services on `--ip`,
// but tells them to reach each other at 127.0.0.1 (static membership hard-coded in
// temporalcli/devserver/server.go). On any other address it answers clients yet cannot start a
// workflow. So for the history and matching ports this opens 127.0.0.1:<port> and relays to
// <host>:<port>, but only connections the dev server process itself opened (checked in /proc,
// hence Linux only); any other connection is closed before a byte is relayed.
import path from 'node:path'
import net from 'node:net'
import { execFile, spawn } from 'node:child_process'
import { mkdir, readFile, readdir, readlink } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, hostPort, listenHost } from './ports.ts'

export interface TemporalDevServerOptions {
  binPath: string
  /** The address every socket of the server listens on; default 127.0.0.1. */
  host?: string
  /** Frontend gRPC port; 0 or undefined picks a free one. */
  port?: number
  /** Web UI port; false (default) runs headless, 0 picks a free port. */
  uiPort?: number | false
  /** SQLite file to persist state in; default in-memory. */
  dbFile?: string
  /** Namespace to create and wait for (default `default`, which always exists). */
  namespace?: string
  /** Receives the server's output lines and lifecycle notices. */
  log?: (line: string) => void
}

export interface TemporalDevServer {
  /** host:port of the frontend gRPC service. */
  address: string
  /** The address every socket of the server listens on. */
  host: string
  namespace: string
  uiUrl?: string
  /** The dev server's process id. */
  pid: number
  stop(): Promise<void>
}

/** Where the dev server's services reach each other, whatever `--ip` says. */
const INTERNAL_HOST = '127.0.0.1'
/** The services the others reach through membership, so at 127.0.0.1. The frontend is reached
 * at its configured address (the public client's), and the worker service listens on nothing. */
const SERVICES = ['history', 'matching'] as const
type Service = (typeof SERVICES)[number]
const READY_DEADLINE_MS = 60_000
const STOP_GRACE_MS = 10_000
const KEEP_LINES = 60
const START_ATTEMPTS = 3

/** The first lines of the server's output are kept too: a Go panic names its cause at the top of a long stack. */
const HEAD_LINES = 20

/** A bridge port was taken by another program; a new start picks new internal ports. */
class BridgePortBusy extends Error {}

/**
 * The server exited before it was ready. On a busy machine that is mostly a lost race for a port
 * (the dev server picks its internal ports itself, and other servers start at the same time):
 * a new start picks new ports, and a server that cannot start at all fails every attempt the same way.
 */
class ExitedBeforeReady extends Error {}

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const host = listenHost(opts.host, 'the Temporal dev server')
  const bridged = needsBridge(host)
  if (bridged && process.platform !== 'linux') {
    throw new Error(
      `host: the Temporal dev server can listen on ${host} only on Linux (its services reach each other at ${INTERNAL_HOST}, and Stampede bridges that only where /proc tells who connects); use 127.0.0.1 or a Temporal of your own (TEMPORAL_ADDRESS)`,
    )
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts, host, bridged)
    } catch (err) {
      // The internal ports are picked afresh on every start; a fixed frontend port is not.
      if (!(err instanceof BridgePortBusy || err instanceof ExitedBeforeReady) || attempt >= START_ATTEMPTS || opts.port) throw err
      opts.log?.(`${err.message}\n(attempt ${attempt} of ${START_ATTEMPTS}; starting the Temporal dev server again)`)
    }
  }
}

async function startOnce(opts: TemporalDevServerOptions, host: string, bridged: boolean): Promise<TemporalDevServer> {
  const namespace = opts.namespace ?? 'default'
  const port = opts.port || (await freePort(host))
  const uiPort = opts.uiPort === false || opts.uiPort === undefined ? undefined : opts.uiPort || (await freePort(host))
  const address = hostPort(host, port)

  const args = ['server', 'start-dev', '--ip', host, '--port', String(port)]
  args.push(...(uiPort === undefined ? ['--headless'] : ['--ui-ip', host, '--ui-port', String(uiPort)]))
  if (opts.dbFile) {
    await mkdir(path.dirname(path.resolve(opts.dbFile)), { recursive: true })
    args.push('--db-filename', opts.dbFile)
  }
  args.push('--log-level', 'warn', '--namespace', 'default')
  if (namespace !== 'default') args.push('--namespace', namespace)
  // The resolved configuration, printed before the services start, names their ports.
  if (bridged) args.push('--log-config')

  const child = spawn(opts.binPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const head: string[] = []
  const recent: string[] = []
  let left = 0
  const onLine = (line: string): void => {
    if (head.length < HEAD_LINES) head.push(line)
    else recent.push(line)
    if (recent.length > KEEP_LINES) {
      recent.shift()
      left++
    }
    opts.log?.(line)
  }
  const output = () => [...head, ...(left > 0 ? [`… ${left} lines left out …`] : []), ...recent].join('\n')
  createInterface({ input: child.stdout }).on('line', onLine)

  const config = new ServicePorts()
  const bridges: Bridge[] = []
  let bridging: Promise<void> | undefined
  let bridgeError: Error | undefined
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (!bridged || !config.read(line)) return onLine(line)
    if (bridging || !config.complete() || child.pid === undefined) return
    const pid = child.pid
    bridging = Promise.all(SERVICES.map((service) => openBridge(service, config.ports[service]!, host, pid, opts.log)))
      .then((opened) => void bridges.push(...opened))
      .catch((err: unknown) => {
        bridgeError = err instanceof Error ? err : new Error(String(err))
      })
  })

  let stopping = false
  let ready = false
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined
  let spawnError: Error | undefined
  const exited = new Promise<void>((resolve) => {
    child.on('error', (err) => {
      spawnError = err
      resolve()
    })
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal }
      // Before readiness the failure is reported by the rejected start instead.
      if (ready && !stopping) {
        const notice = `temporal dev server (pid ${child.pid}, ${address}) exited unexpectedly: ${describeExit(code, signal)}`
        if (opts.log) opts.log(notice)
        else console.error(notice)
      }
      resolve()
    })
  })
  // If this Node process ends without calling stop(), do not leave the server behind.
  const killOnExit = (): void => void child.kill('SIGKILL')
  process.once('exit', killOnExit)

  const closeBridges = async (): Promise<void> => {
    await bridging
    await Promise.all(bridges.splice(0).map((b) => b.close()))
  }
  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit)
    if (!exitInfo && !spawnError) {
      stopping = true
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
      await exited
      clearTimeout(timer)
    }
    await closeBridges()
  }
  const fail = async (error: Error): Promise<never> => {
    await stop()
    throw error
  }

  const deadline = Date.now() + READY_DEADLINE_MS
  for (;;) {
    if (spawnError) return fail(new Error(`could not start ${opts.binPath}: ${spawnError.message}`))
    if (exitInfo) return fail(new ExitedBeforeReady(`temporal dev server exited before it was ready (${describeExit(exitInfo.code, exitInfo.signal)}):\n${output()}`))
    if (bridgeError) return fail(bridgeError)
    if (await namespaceReady(opts.binPath, address, namespace)) {
      if (!bridged) break
      // The configuration is printed before the frontend starts, so it has been read by now.
      if (!bridging) return fail(new Error(`temporal dev server at ${address} did not print the ports of its ${SERVICES.filter((s) => !config.ports[s]).join(', ')} services (--log-config); cannot bridge them`))
      await bridging
      if (bridgeError) return fail(bridgeError)
      break
    }
    if (Date.now() > deadline) return fail(new Error(`temporal dev server at ${address} was not ready within ${READY_DEADLINE_MS / 1000} s:\n${output()}`))
    await sleep(200)
  }
  ready = true

  return {
    address,
    host,
    namespace,
    ...(uiPort === undefined ? {} : { uiUrl: `http://${hostPort(host, uiPort)}` }),
    pid: child.pid!,
    stop,
  }
}

/** Whether the services, bound on `host`, cannot be reached at 127.0.0.1 without a bridge. */
function needsBridge(host: string): boolean {
  return host !== INTERNAL_HOST && host !== '0.0.0.0' && host !== '::'
}

/** Reads the service ports out of the YAML `--log-config` prints; true for every line of it. */
class ServicePorts {
  readonly ports: Partial<Record<Service, number>> = {}
  private started = false
  private done = false
  private inServices = false
  private service: Service | undefined

  read(line: string): boolean {
    if (this.done) return false
    // The configuration is YAML with camelCase keys; the first other line after it ends it. A Go
    // crash ("panic: …", "fatal error: …") looks like a key but is the server's output.
    if (!/^( |[a-z][A-Za-z0-9]*:( |$))/.test(line) || /^(panic|fatal error): /.test(line)) {
      if (this.started) this.done = true
      return false
    }
    this.started = true
    if (!line.startsWith(' ')) {
      this.inServices = line.startsWith('services:')
      this.service = undefined
    } else if (this.inServices) {
      const name = /^ {4}([a-z]+):\s*$/.exec(line)?.[1]
      if (name) this.service = (SERVICES as readonly string[]).includes(name) ? (name as Service) : undefined
      const port = /^\s+grpcPort: (\d+)\s*$/.exec(line)?.[1]
      if (port && this.service) this.ports[this.service] = Number(port)
    }
    return true
  }

  complete(): boolean {
    return SERVICES.every((s) => this.ports[s] !== undefined)
  }
}

interface Bridge {
  close(): Promise<void>
}

/** 127.0.0.1:<port> → <host>:<port>, for connections the dev server (`pid`) opened and no other. */
async function openBridge(service: Service, port: number, host: string, pid: number, log?: (line: string) => void): Promise<Bridge> {
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  let refusals = 0
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    track(socket)
    void connectionOwner(pid, socket).then((owner) => {
      if (socket.destroyed) return
      if (owner !== 'server') {
        socket.destroy()
        // A peer that is gone already closed its end (gRPC drops surplus connections).
        if (owner === 'other' && refusals++ === 0) {
          log?.(`closed a connection to ${INTERNAL_HOST}:${port} (the Temporal dev server's ${service} service) that another process opened; only the dev server itself may use it`)
        }
        return
      }
      const upstream = net.connect({ host, port })
      track(upstream)
      upstream.on('close', () => socket.destroy())
      socket.on('close', () => upstream.destroy())
      socket.pipe(upstream).pipe(socket)
      socket.resume()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new BridgePortBusy(`${INTERNAL_HOST}:${port}, where the Temporal dev server's ${service} service is reached, is in use by another program`)
          : err,
      )
    })
    server.listen(port, INTERNAL_HOST, () => resolve())
  })
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
}

/** Who holds the peer end of an accepted loopback connection: the dev server (`pid`), another
 * process, or nobody any more (the peer closed it). */
async function connectionOwner(pid: number, socket: net.Socket): Promise<'server' | 'other' | 'gone'> {
  const { remoteAddress, remotePort, localAddress, localPort } = socket
  if (!remoteAddress || !remotePort || !localAddress || !localPort) return 'gone'
  // The peer's side of the connection: local = its address, remote = ours.
  const peer = `${procAddress(remoteAddress, remotePort)} ${procAddress(localAddress, localPort)}`
  const peerInode = async () => {
    for (const row of (await readFile('/proc/net/tcp', 'utf8')).split('\n')) {
      const fields = row.trim().split(/\s+/)
      // A socket its process has closed keeps its row for a while, without an inode.
      if (`${fields[1]} ${fields[2]}` === peer) return fields[9] === '0' ? undefined : fields[9]
    }
    return undefined
  }
  try {
    const inode = await peerInode()
    if (!inode) return 'gone'
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [])
    const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')))
    if (links.includes(`socket:[${inode}]`)) return 'server'
    // Not among the server's sockets: someone else's, unless it was closed meanwhile (as the
    // server closes its sockets while it stops).
    return (await peerInode()) === inode ? 'other' : 'gone'
  } catch {
    return 'other'
  }
}

/** An IPv4 address and port as /proc/net/tcp writes them: `0100007F:1C45` for 127.0.0.1:7237. */
function procAddress(address: string, port: number): string {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  const octets = v4.split('.').map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0'))
  return `${octets.reverse().join('')}:${port.toString(16).toUpperCase().padStart(4, '0')}`
}

function namespaceReady(binPath: string, address: string, namespace: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      binPath,
      ['operator', 'namespace', 'describe', '--address', address, '--namespace', namespace],
      { timeout: 5_000 },
      (error) => resolve(!error),
    )
  })
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`
}
