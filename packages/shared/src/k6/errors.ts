// Pulls k6's own error messages out of its logfmt stderr lines, e.g.
// time="…" level=error msg="Error: boom\n\tat file:///…/script.js:2:7(13)\n" hint="script exception"
const ERROR_LINE = /\blevel=(?:error|fatal)\b/
const MSG = /\bmsg="((?:[^"\\]|\\.)*)"/
const HINT = /\bhint="((?:[^"\\]|\\.)*)"/

const unescape = (s: string): string =>
  s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c))

export function k6ErrorMessage(line: string): string | undefined {
  if (!ERROR_LINE.test(line)) return undefined
  const msg = MSG.exec(line)?.[1]
  if (msg === undefined) return line
  const hint = HINT.exec(line)?.[1]
  const text = unescape(msg).trim()
  return hint ? `${text} (${unescape(hint)})` : text
}
