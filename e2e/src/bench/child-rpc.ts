// A platform part (the API, a runner) in a Node process of its own, spoken to over IPC: the child
// (a *.child.ts file run through tsx) sends `{ id: 0, type: 'ready', … }` once it is up and then
// answers each `{ id, type, payload? }` request with a reply of the same id (or `{ type: 'error', message }`).
// api-process.ts and runner-process.ts are this plus what their child answers.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const E2E_DIR = fileURLToPath(new URL('../..', import.meta.url))

type Reply = { id: number; type: string; message?: string }

export interface ChildRpc<Req extends string, R extends Reply> {
  child: ChildProcess
  /** The child's first message (`ready`). */
  ready: R
  request(type: Req, payload?: unknown): Promise<R>
  /** Asks the child to `stop`, waits for it to exit; kills it after `killAfterMs`. */
  stop(killAfterMs: number): Promise<void>
}

/**
 * Forks `childFile` with `env` in `envVar` (JSON) and Node's `execArgv`; resolves once it said
 * `ready` (within `startTimeoutMs`, else it is killed). `name` is the process in messages.
 */
export async function startChildRpc<Req extends string, R extends Reply>(opts: {
  childFile: string
  name: string
  envVar: string
  env: Record<string, string>
  execArgv: string[]
  /** The child process's own environment on top of this one's (e.g. the C allocator's settings). */
  processEnv?: Record<string, string>
  startTimeoutMs: number
}): Promise<ChildRpc<Req, R>> {
  const child = fork(opts.childFile, [], {
    // Resolves `tsx` from the e2e package, whatever the caller's working directory.
    cwd: E2E_DIR,
    execArgv: opts.execArgv,
    env: { ...process.env, ...opts.processEnv, [opts.envVar]: JSON.stringify(opts.env) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const pending = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>()
  let exited: Error | undefined
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = new Error(`the ${opts.name} process exited (${signal ?? `code ${code}`})`)
      for (const p of pending.values()) p.reject(exited)
      pending.clear()
      resolve()
    })
  })
  child.on('message', (reply: R) => {
    const p = pending.get(reply.id)
    pending.delete(reply.id)
    if (!p) return
    if (reply.type === 'error') p.reject(new Error(`${opts.name} process: ${reply.message}`))
    else p.resolve(reply)
  })

  let next = 1
  const request = (type: Req, payload?: unknown): Promise<R> => {
    if (exited) return Promise.reject(exited)
    const id = next++
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      child.send(payload === undefined ? { id, type } : { id, type, payload })
    })
  }

  const ready = await new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${opts.name} process did not start in time`)), opts.startTimeoutMs)
    pending.set(0, {
      resolve: (r) => (clearTimeout(timer), resolve(r)),
      reject: (e) => (clearTimeout(timer), reject(e)),
    })
  }).catch((err: unknown) => {
    child.kill('SIGKILL')
    throw err
  })
  if (ready.type !== 'ready') throw new Error(`${opts.name} process: unexpected first message ${ready.type}`)

  return {
    child,
    ready,
    request,
    async stop(killAfterMs) {
      if (exited) return
      const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
      await request('stop' as Req).catch(() => child.kill('SIGKILL'))
      await exit
      clearTimeout(killer)
    },
  }
}
