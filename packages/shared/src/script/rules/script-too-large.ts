// A script over the size cap is refused before it is parsed.
import type { SourceRule } from '../context.ts'

export const MAX_SCRIPT_BYTES = 500 * 1024

function byteLength(s: string): number {
  return new TextEncoder().encode(s).length
}

export const scriptTooLargeRule: SourceRule = {
  id: 'script-too-large',
  check(source, report) {
    const bytes = byteLength(source)
    if (bytes > MAX_SCRIPT_BYTES) {
      report.error('script-too-large', `The script is ${Math.ceil(bytes / 1024)} KB; the limit is ${MAX_SCRIPT_BYTES / 1024} KB. Move test data into a file loaded with open() and SharedArray, or split the script.`)
    }
  },
}
