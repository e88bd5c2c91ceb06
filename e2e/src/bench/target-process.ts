// A load target in a process of its own, for the throughput lanes. The tests' target
// (../target.ts) lives in the test process, and in the bench that process also hosts the API,
// the runners and the S3 server: every millisecond they spend on the event loop stalled the
// target, so a Stampede run lost requests that bare k6 (run while the platform idles) did not.
// On a real deployment the target is never inside the platform's process; here it still shares
// the machine's cores with everything, which is the cost the lanes mean to show.
import { spawn } from 'node:child_process'
import { once } from 'node:events'

/** The server: answers every request with "ok", keeps connections alive, records nothing. */
const SOURCE = `
const http = require('node:http')
const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok\\n') })
server.keepAliveTimeout = 60000
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
process.on('disconnect', () => process.exit(0))
`

export interface TargetProcess {
  url: string
  stop(): Promise<void>
}

export async function startTargetProcess(): Promise<TargetProcess> {
  // Its own session: with autogroup scheduling (the kernel's default) it then has a CPU share of
  // its own, as a target on another machine would, instead of sharing the platform's.
  const child = spawn(process.execPath, ['-e', SOURCE], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], detached: true })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the bench target exited with code ${code} before listening`)))
    child.stdout!.once('data', (data: Buffer) => resolve(Number(String(data).trim())))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
}
