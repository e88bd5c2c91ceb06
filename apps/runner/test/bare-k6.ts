// For tests of what k6 itself does with the runner's arguments and environment: runs a command
// (k6, or k6 behind `ip netns exec`) in `dir` outside the sandbox, collects its whole output, and
// kills it past a deadline.
import { spawn } from 'node:child_process'

export async function runBareK6(command: string, args: string[], opts: { dir: string; env: Record<string, string>; deadlineMs: number }): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { cwd: opts.dir, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  for (const stream of [child.stdout, child.stderr]) stream.setEncoding('utf8').on('data', (text: string) => (output += text))
  const deadline = setTimeout(() => child.kill('SIGKILL'), opts.deadlineMs)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  }).finally(() => clearTimeout(deadline))
  return { code, output }
}
