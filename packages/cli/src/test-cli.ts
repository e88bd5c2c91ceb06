// Runs the CLI's main() in-process against a test API, capturing what it prints (CLI unit tests).
import { PassThrough } from 'node:stream'
import { main } from './main.ts'

/** `stampede <argv> --url <url> --token stp_test` with `cwd`; its exit code and output. */
export async function runCli(url: string, cwd: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main([...argv, '--url', url, '--token', 'stp_test'], {
    env: {},
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: new PassThrough(),
    cwd,
    onInterrupt: () => () => {},
  })
  return { code, stdout, stderr }
}
