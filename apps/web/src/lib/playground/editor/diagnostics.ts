// Where a validation finding goes in the editor. The API reports 1-based lines and columns
// (Babel's and k6's, in UTF-16 code units like CodeMirror's positions); a finding is underlined
// from there to the end of the token it points at, and clamped into the document, which may
// have changed since the script was sent.
import type { Diagnostic } from '@codemirror/lint'
import type { Text } from '@codemirror/state'
import type { Finding } from '@stampede/shared/script'

export interface FindingRange {
  from: number
  to: number
  /** The line and column actually used (after clamping), 1-based. */
  line: number
  column: number
}

/** A word, a quoted string (an import specifier), or else one character. */
const TOKEN = /^(?:[\w$]+|'[^'\n]*'?|"[^"\n]*"?|`[^`\n]*`?|\S)/

export function findingRange(doc: Text, finding: Pick<Finding, 'line' | 'column'>): FindingRange {
  const lineNumber = Math.min(Math.max(1, Math.trunc(finding.line) || 1), doc.lines)
  const line = doc.line(lineNumber)
  const column = Math.min(Math.max(1, Math.trunc(finding.column) || 1), line.length + 1)
  const from = line.from + column - 1
  const token = TOKEN.exec(line.text.slice(column - 1))?.[0] ?? ''
  return { from, to: from + token.length, line: lineNumber, column }
}

export interface Validation {
  errors: Finding[]
  warnings: Finding[]
}

/** The editor's diagnostics for a validation result: errors first, each with its code. */
export function toDiagnostics(doc: Text, validation: Validation): Diagnostic[] {
  const one = (finding: Finding, severity: 'error' | 'warning'): Diagnostic => {
    const { from, to } = findingRange(doc, finding)
    return { from, to, severity, source: finding.code, message: finding.message }
  }
  return [...validation.errors.map((f) => one(f, 'error')), ...validation.warnings.map((f) => one(f, 'warning'))]
}
