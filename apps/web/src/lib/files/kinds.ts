// What the web does with each of a test's files, by name: text files (modules and data) open in
// the editor, CSV and JSON files also get a preview, anything else is shown by its size only.
// And the small pure helpers behind the file list: where an upload lands, CSV rows, JSON lines.
import { checkFilePath, isModulePath } from '@stampede/shared/files'

const TEXT = /\.(?:m?js|cjs|ts|json|csv|tsv|txt|md|html?|xml|ya?ml|sql|graphql|gql|ini|toml|env|log|proto)$/i

/** A file the editor opens: a JS/TS module or a text data file. */
export const isTextPath = (path: string): boolean => TEXT.test(path)

export type PreviewKind = 'csv' | 'json' | 'text' | 'binary'

export function previewKind(path: string): PreviewKind {
  if (/\.(?:csv|tsv)$/i.test(path)) return 'csv'
  if (/\.json$/i.test(path)) return 'json'
  return isTextPath(path) ? 'text' : 'binary'
}

/** The editor's language for a file: modules get the k6 script support, data files plain text. */
export const editorLanguage = (path: string): 'script' | 'plain' => (isModulePath(path) ? 'script' : 'plain')

/** The first 12 characters of a hash, for display. */
export const shortSha = (sha256: string): string => sha256.slice(0, 12)

/**
 * The path a picked file gets: its name (or, from a folder pick, its path inside the picked
 * folder) under `folder`, a folder relative to the script ('' for the script's own).
 */
export function uploadPath(folder: string, name: string): string {
  const dir = folder.trim().replace(/^\.\/+/, '').replace(/\/+$/, '')
  return dir ? `${dir}/${name}` : name
}

/** Checks the folder an upload goes into ('' is the script's own folder); the message says what to fix. */
export function checkFolder(folder: string): string | null {
  const dir = folder.trim().replace(/\/+$/, '')
  if (dir === '' || dir === '.') return null
  const checked = checkFilePath(`${dir}/x`)
  return checked.ok ? null : checked.message.replace(`"${dir}/x"`, `"${dir}/…"`).replace('The file name', 'The folder')
}

/** Parses the first `limit` rows of CSV text (quoted fields, doubled quotes, CRLF); `tab` for TSV. */
export function csvRows(text: string, limit = 20, separator = ','): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  let i = 0
  const endRow = () => {
    row.push(field)
    rows.push(row)
    row = []
    field = ''
  }
  while (i < text.length && rows.length < limit) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"'
        i += 2
        continue
      }
      if (ch === '"') quoted = false
      else field += ch
      i++
      continue
    }
    if (ch === '"' && field === '') quoted = true
    else if (ch === separator) {
      row.push(field)
      field = ''
    } else if (ch === '\n' || ch === '\r') {
      endRow()
      if (ch === '\r' && text[i + 1] === '\n') i++
    } else field += ch
    i++
  }
  if (rows.length < limit && (field !== '' || row.length > 0)) endRow()
  return rows
}

/** JSON text pretty-printed, cut to `limit` lines; or the parser's complaint when it is not JSON. */
export function jsonPreview(text: string, limit = 200): { lines: string[]; more: number } | { error: string } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` }
  }
  const all = (JSON.stringify(value, null, 2) ?? '').split('\n')
  return { lines: all.slice(0, limit), more: Math.max(0, all.length - limit) }
}

/** The first `limit` lines of a text file. */
export function textPreview(text: string, limit = 200): { lines: string[]; more: number } {
  const all = text.split(/\r?\n/)
  return { lines: all.slice(0, limit), more: Math.max(0, all.length - limit) }
}
