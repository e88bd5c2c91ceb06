// The launcher: a small Node process that starts the platform's k6 processes for its parent (see
// launcher.ts for why). Plain JavaScript, run by node without loaders or dependencies, so that it
// stays small: its spawn is what is cheap about it.
//
// Protocol (IPC, 'advanced' serialisation so output travels as bytes):
//   parent → launcher  { op: 'spawn', id, file, args, env, cwd, uid?, gid? }
//                      { op: 'kill', id, signal }
//   launcher → parent  { op: 'spawned', id, pid } | { op: 'error', id, message, code }
//                      { op: 'out', id, stream, data } … { op: 'end', id, stream }
//                      { op: 'exit', id, code, signal }
// A process's 'exit' comes after both of its streams ended. When the parent goes away (its IPC
// channel closes), every process started here is killed and the launcher exits.
import { spawn } from 'node:child_process'

/** Output messages in flight above which a process's output is paused (back-pressure to k6's pipes). */
const PAUSE_ABOVE = 64
const RESUME_BELOW = 16

/** Processes started here and not yet reported exited, by id. */
const live = new Map()
let inFlight = 0
const paused = new Set()

function send(message) {
  if (!process.connected) return
  inFlight++
  process.send(message, undefined, {}, () => {
    inFlight--
    if (inFlight < RESUME_BELOW && paused.size > 0) {
      for (const stream of paused) stream.resume()
      paused.clear()
    }
  })
}

function forward(id, name, stream) {
  return new Promise((resolve) => {
    stream.on('data', (data) => {
      send({ op: 'out', id, stream: name, data })
      if (inFlight > PAUSE_ABOVE) {
        stream.pause()
        paused.add(stream)
      }
    })
    stream.on('end', resolve)
    stream.on('error', resolve)
  })
}

function start({ id, file, args, env, cwd, uid, gid }) {
  let child
  try {
    child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], ...(uid === undefined ? {} : { uid, gid }) })
  } catch (err) {
    send({ op: 'error', id, message: err instanceof Error ? err.message : String(err), code: err?.code })
    return
  }
  live.set(id, child)
  let failed = false
  child.once('error', (err) => {
    failed = true
    live.delete(id)
    send({ op: 'error', id, message: err.message, code: err.code })
  })
  child.once('spawn', () => send({ op: 'spawned', id, pid: child.pid }))
  const streams = Promise.all([forward(id, 'stdout', child.stdout), forward(id, 'stderr', child.stderr)])
  child.once('exit', (code, signal) => {
    void streams.then(() => {
      live.delete(id)
      if (failed) return
      send({ op: 'end', id, stream: 'stdout' })
      send({ op: 'end', id, stream: 'stderr' })
      send({ op: 'exit', id, code, signal })
    })
  })
}

process.on('message', (message) => {
  if (message.op === 'spawn') start(message)
  else if (message.op === 'kill') {
    try {
      live.get(message.id)?.kill(message.signal)
    } catch {
      // already gone
    }
  }
})

process.on('disconnect', () => {
  for (const child of live.values()) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  process.exit(0)
})
