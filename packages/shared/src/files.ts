// A test's files: data files (CSV, JSON, text, binary) and JS/TS modules at paths relative to the
// test's entry script. The rules here decide which names may exist at all, before anything is
// stored or laid out in a run's directory, and they are the same for the API, the CLI's collector
// and the web's upload: a name that could reach outside the run's folder, hide in a listing or mean
// two things on two systems is refused with a message that says what to rename.
//
// Written here rather than taken from a path library: POSIX `path.normalize` would resolve `a/../b`
// to `b` silently (a name that climbs is refused instead, so what is stored is what the script
// wrote), and this module also runs in the browser.

export interface FileCaps {
  /** The largest single file. */
  maxFileBytes: number
  /** All of a test's files together (the entry script not counted). */
  maxTotalBytes: number
  /** How many files a test may have. */
  maxFiles: number
}

export const DEFAULT_FILE_CAPS: FileCaps = {
  maxFileBytes: 10 * 1024 * 1024,
  maxTotalBytes: 50 * 1024 * 1024,
  maxFiles: 200,
}

/** Longest path, in characters, and longest single name, in UTF-8 bytes (Linux's own limit). */
export const MAX_FILE_PATH_CHARS = 240
export const MAX_FILE_NAME_BYTES = 255
/** Folders below the entry script's. */
export const MAX_FILE_DEPTH = 10

/** Names the platform gives the entry script inside the run's folder; no file may take them. */
export const ENTRY_SCRIPT_NAMES: readonly string[] = ['script.js', 'script.ts']

export type FilePathCheck = { ok: true; path: string } | { ok: false; message: string }

// C0 and C1 control characters, DEL, and the Unicode characters that reorder or hide text
// (bidirectional overrides and isolates, zero-width characters, the BOM).
// eslint-disable-next-line no-control-regex
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u

function describeChar(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
}

/**
 * The first control or invisible character in `input` (the same rule file names follow), as
 * `U+XXXX`, or undefined when there is none. For names that are not test file paths, e.g. the
 * entries of an uploaded k6 archive.
 */
export function findHiddenCharacter(input: string): string | undefined {
  const hidden = HIDDEN.exec(input)
  return hidden ? describeChar(hidden[0]) : undefined
}

/**
 * Checks one file path as a user gave it and returns its stored form: `./` removed, NFC
 * normalised (so two names that look alike are one name). Everything else that is not a plain
 * relative path inside the test's folder is refused, never rewritten.
 */
export function checkFilePath(input: string): FilePathCheck {
  const quoted = JSON.stringify(input)
  if (typeof input !== 'string' || input.length === 0) return { ok: false, message: 'A file needs a name, e.g. data/users.json.' }
  const hidden = HIDDEN.exec(input)
  if (hidden) return { ok: false, message: `The file name ${quoted} contains the control or invisible character ${describeChar(hidden[0])}; use visible characters only.` }
  if (input.includes('\\')) return { ok: false, message: `The file name ${quoted} contains a backslash; separate folders with "/", e.g. data/users.json.` }
  if (input.startsWith('/') || /^[A-Za-z]:/.test(input) || input.startsWith('file:')) {
    return { ok: false, message: `The file name ${quoted} is absolute; give it relative to the test's script, e.g. data/users.json.` }
  }
  let path = input.normalize('NFC')
  while (path.startsWith('./')) path = path.slice(2)
  if (path.length > MAX_FILE_PATH_CHARS) return { ok: false, message: `The file name ${quoted} is ${path.length} characters long; the limit is ${MAX_FILE_PATH_CHARS}.` }
  const parts = path.split('/')
  if (parts.some((p) => p === '..')) return { ok: false, message: `The file name ${quoted} climbs out of the test's folder with ".."; files live in the script's folder or below it.` }
  if (parts.some((p) => p === '' || p === '.')) return { ok: false, message: `The file name ${quoted} has an empty folder name (a doubled or trailing "/", or "./" inside it).` }
  if (parts.length - 1 > MAX_FILE_DEPTH) return { ok: false, message: `The file name ${quoted} is ${parts.length - 1} folders deep; the limit is ${MAX_FILE_DEPTH}.` }
  const long = parts.find((p) => new TextEncoder().encode(p).length > MAX_FILE_NAME_BYTES)
  if (long !== undefined) return { ok: false, message: `The name ${JSON.stringify(long)} in ${quoted} is longer than ${MAX_FILE_NAME_BYTES} bytes.` }
  if (parts.length === 1 && ENTRY_SCRIPT_NAMES.includes(path)) {
    return { ok: false, message: `The file name ${quoted} is the test's own script; give the file another name.` }
  }
  return { ok: true, path }
}

export interface FileEntry {
  path: string
  size: number
}

export type FileSetProblem = { path?: string; message: string }

/** Sizes in messages: bytes, KB or MB. */
export const formatFileSize = (bytes: number): string => (bytes >= 1024 * 1024 ? `${+(bytes / (1024 * 1024)).toFixed(1)} MB` : bytes >= 1024 ? `${+(bytes / 1024).toFixed(1)} KB` : `${bytes} bytes`)

/**
 * Checks a whole set of files (paths already in stored form): the caps, duplicates, and a name
 * used both as a file and as a folder (`data` and `data/users.json`). Every problem is listed.
 */
export function checkFileSet(files: readonly FileEntry[], caps: FileCaps = DEFAULT_FILE_CAPS): FileSetProblem[] {
  const problems: FileSetProblem[] = []
  if (files.length > caps.maxFiles) problems.push({ message: `The test has ${files.length} files; the limit is ${caps.maxFiles}. Remove files it does not read, or pack data into fewer files.` })
  let total = 0
  const seen = new Set<string>()
  const folders = new Set<string>()
  for (const f of files) {
    total += f.size
    if (f.size > caps.maxFileBytes) problems.push({ path: f.path, message: `${f.path} is ${formatFileSize(f.size)}; a file may be at most ${formatFileSize(caps.maxFileBytes)}.` })
    if (seen.has(f.path)) problems.push({ path: f.path, message: `${f.path} is given twice; each file needs its own name.` })
    seen.add(f.path)
    const parts = f.path.split('/')
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'))
  }
  for (const path of seen) {
    if (folders.has(path)) problems.push({ path, message: `${path} is both a file and a folder of other files; rename one of them.` })
  }
  if (total > caps.maxTotalBytes) problems.push({ message: `The test's files add up to ${formatFileSize(total)}; the limit is ${formatFileSize(caps.maxTotalBytes)}.` })
  return problems
}

/**
 * Resolves a relative reference (`./users.json`, `../lib/a.js`) made by the file at `from` (a
 * stored path; the entry script is `''`'s folder, i.e. pass its name) to a stored path, or null
 * when it climbs above the test's folder.
 */
export function resolveFileReference(from: string, reference: string): string | null {
  const base = from.split('/').slice(0, -1)
  for (const part of reference.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (base.length === 0) return null
      base.pop()
    } else base.push(part)
  }
  return base.join('/')
}

/** A file of a test or run as stored: its path, and the SHA-256 and size of its bytes. */
export interface StoredFile {
  path: string
  sha256: string
  size: number
}

/** A stored k6 archive (a test or run that runs one instead of a script with files). */
export interface StoredArchive {
  sha256: string
  size: number
}

/** Where a project's file bytes are kept in S3: once per content. */
export const fileBlobKey = (projectId: string, sha256: string): string => `files/${projectId}/${sha256}`

/** Which files are JS or TS modules (parsed and checked like the script), by name: .js .mjs .cjs .ts .mts .cts. */
export const isModulePath = (path: string): boolean => /\.[cm]?[jt]s$/i.test(path)

