// Reads a k6 archive (the plain .tar that `k6 archive script.js` writes) that a user uploads as a
// test, without trusting anything in it. The archive is never extracted: it is streamed entry by
// entry, its shape is compared with exactly what k6 writes, and a summary (the entry script, the
// local files, the remote modules) is returned for the API to store and the web to show.
//
// What k6 v2.2 writes, in this order:
//   metadata.json                 regular file: JSON with filename (file:///…), pwd, options, env, k6version
//   data                          regular file: the entry script's source
//   file, file/<host path>/…      directories (mode 755, size 0), one per folder of a local file
//   file/<host path>/<name>       regular files: the modules and data files the script loads
//   file/<entry's host path>      a hard link (size 0) whose target is `data`: the entry script
//   https, https/<host>/…         directories and regular files: remote modules, when there are any
// Headers are USTAR, with a PAX `path` record for names that USTAR cannot hold (non-ASCII names),
// and the archive ends with two zero blocks.
//
// Anything else is refused: other entry types, other hard links, names that climb, hide characters
// or repeat, and every tar feature where tar-stream (here) and Go's archive/tar (in k6) could read
// the same bytes differently (extension headers other than PAX records k6 writes, bodies on
// header-only entries, content after the end of the archive). Sizes are counted from the bytes that
// are read, and reading stops as soon as a cap is passed.
//
// Nothing a test loads is ever fetched by Stampede, at validation or at run time: an archive may
// import only the remote modules it carries. Every module in the archive (the entry script, the
// JavaScript/TypeScript files under file/, everything under https/, and any other file a module
// imports) is parsed, and the archive is refused when one imports an https:// module the archive
// does not carry (k6 would download it while loading the test), imports over http://, loads a
// module whose name is computed (it cannot be checked), or ends with a source map comment pointing
// to a remote map the archive does not carry (k6 downloads that too). Import specifiers are
// resolved and mapped to entry names the way k6 does (see `k6Target`). A module that does not parse
// is left to k6, which reports it at validation.
import { extract as tarExtract } from 'tar-stream'
import type { Header } from 'tar-stream'
import { findHiddenCharacter, formatFileSize, isModulePath, type FileCaps } from '@stampede/shared/files'
import { scriptReferences } from '@stampede/shared/script'

export interface K6ArchiveSummary {
  /** The entry script: its file name, its source (the archive's `data`) and its language. */
  entry: { name: string; source: string; language: 'javascript' | 'typescript' }
  /** Every local file besides the entry: relative to the entry's folder when inside it, else its
   * host path as the archive holds it (without `file/`), sorted by path. */
  files: { path: string; size: number }[]
  /** Remote modules the archive carries, as URLs, sorted. */
  remote: string[]
  k6Version: string | null
  /** Bytes of all entries' contents, as counted while reading. */
  totalBytes: number
}

export type ArchiveCheck = { ok: true; archive: K6ArchiveSummary } | { ok: false; problems: string[] }

/** metadata.json of a real archive is a few KB; more is not an archive k6 wrote. */
export const MAX_METADATA_BYTES = 1024 * 1024
/** Folder entries are not files and do not count against maxFiles, but they are bounded too. */
export const MAX_ARCHIVE_FOLDERS = 2000
/** Longest entry name in UTF-8 bytes (Linux's PATH_MAX) and longest single name (NAME_MAX). */
const MAX_NAME_BYTES = 4096
const MAX_SEGMENT_BYTES = 255
/** More problems than this are summarised in one line. */
const MAX_PROBLEMS = 20
/** PAX records k6's tar writer can emit for the headers it writes. */
const ALLOWED_PAX_KEYS = new Set(['path', 'linkpath', 'size', 'mtime', 'atime', 'ctime', 'uid', 'gid', 'uname', 'gname'])

const REMAKE = 're-create it with `k6 archive script.js`'
const BLOCK = 512

const utf8 = new TextEncoder()
const q = (name: string): string => JSON.stringify(name)

/** Thrown inside the reader to stop at the first problem that ends reading. */
class Stop extends Error {}

const TYPE_NAMES: Record<string, string> = {
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO (named pipe)',
  '7': 'a contiguous file',
  g: 'a PAX global header',
  L: 'a GNU long name',
  K: 'a GNU long link name',
  S: 'a GNU sparse file',
  D: 'a GNU directory dump',
  M: 'a GNU multi-volume continuation',
  V: 'a GNU volume label',
}

function typeName(flag: number): string {
  const ch = String.fromCharCode(flag)
  if (flag === 0) return 'an old-style regular file'
  return TYPE_NAMES[ch] ?? `an entry of unknown type ${flag >= 0x21 && flag < 0x7f ? q(ch) : `byte ${flag}`}`
}

/** Reads a tar number field the way both readers agree on: octal digits, optionally padded. */
function octalField(block: Uint8Array, offset: number, length: number): number | null {
  const text = String.fromCharCode(...block.subarray(offset, offset + length))
  const m = /^ *([0-7]+)[ \0]*$/.exec(text)
  return m ? parseInt(m[1]!, 8) : null
}

const padded = (n: number): number => Math.ceil(n / BLOCK) * BLOCK

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false
  return true
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b)
}

/** A refusal for input that is not a tar at all, or a compressed one. */
function sniff(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return `The archive is empty (0 bytes). Upload the .tar file that \`k6 archive script.js\` writes.`
  if (startsWith(bytes, [0x1f, 0x8b])) {
    return 'The archive is gzip-compressed, but k6 archives are plain tar files (`k6 archive script.js` writes one). Upload the .tar itself, or decompress it first (gunzip).'
  }
  const other: [number[], string][] = [
    [[0x42, 0x5a, 0x68], 'bzip2'],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
    [[0x28, 0xb5, 0x2f, 0xfd], 'zstd'],
  ]
  for (const [magic, kind] of other) {
    if (startsWith(bytes, magic)) {
      return `The archive is ${kind}-compressed, but k6 archives are plain tar files (\`k6 archive script.js\` writes one). Upload the .tar itself, or decompress it first.`
    }
  }
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    return 'The file is a zip archive, not a k6 archive. k6 archives are plain tar files; make one with `k6 archive script.js`.'
  }
  if (bytes.length >= BLOCK && isZero(bytes, 0, BLOCK)) return `The archive has no entries; ${REMAKE}.`
  if (bytes.length < BLOCK || octalField(bytes, 148, 8) === null) return notATar(bytes)
  return null
}

function notATar(bytes: Uint8Array): string {
  const head = bytes.subarray(0, BLOCK)
  let text = !head.includes(0)
  if (text) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 4)))
    } catch {
      text = false
    }
  }
  return text
    ? 'The file is text, not a k6 archive (a script?). Give a script as the test\'s script, or make an archive of it with `k6 archive script.js` and upload the .tar it writes.'
    : 'The file is not a tar archive. Upload the .tar file that `k6 archive script.js` writes.'
}

/** Problems with an entry's name as such (not with where it sits). */
function nameProblem(name: string, isDir: boolean): string | null {
  const shown = q(name)
  if (name.length === 0) return `An entry of the archive has no name; ${REMAKE}.`
  const hidden = findHiddenCharacter(name)
  if (hidden) return `The entry ${shown} contains the control or invisible character ${hidden}; k6 archives name entries with visible characters only. Rename the file and ${REMAKE}.`
  if (name.includes('\uFFFD')) return `The entry ${shown} has a name that is not valid UTF-8; rename the file and ${REMAKE}.`
  if (name.includes('\\')) return `The entry ${shown} contains a backslash; k6 archives separate folders with "/". ${cap(REMAKE)}.`
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return `The entry ${shown} has an absolute name; entries of a k6 archive are relative (metadata.json, data, file/…). ${cap(REMAKE)}.`
  const bare = isDir && name.endsWith('/') ? name.slice(0, -1) : name
  const parts = bare.split('/')
  if (parts.includes('..')) return `The entry ${shown} climbs out of the archive with "..". ${cap(REMAKE)}.`
  if (parts.some((p) => p === '' || p === '.')) return `The entry ${shown} has an empty folder name (a doubled or trailing "/", or "./"). ${cap(REMAKE)}.`
  if (utf8.encode(name).length > MAX_NAME_BYTES) return `The entry ${q(name.slice(0, 80) + '…')} has a name longer than ${MAX_NAME_BYTES} bytes.`
  const long = parts.find((p) => utf8.encode(p).length > MAX_SEGMENT_BYTES)
  if (long !== undefined) return `The name ${q(long.slice(0, 80) + '…')} in the entry ${shown} is longer than ${MAX_SEGMENT_BYTES} bytes.`
  return null
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1)

/** The entry's name inside the archive (file/<host path>) from metadata.json's `filename`. */
function entryPathFrom(filename: unknown): { ok: true; path: string } | { ok: false; message: string } {
  const bad = (why: string) => ({ ok: false as const, message: `metadata.json's "filename" ${why}; ${REMAKE} from the script on disk.` })
  if (typeof filename !== 'string') return bad('is missing (it names the archive\'s entry script)')
  if (!filename.startsWith('file:///')) return bad(`is ${q(filename.slice(0, 200))}, not a local script (a file:/// URL)`)
  const encoded = filename.slice('file://'.length)
  if (/[?#]/.test(encoded)) return bad(`${q(filename)} has a query or fragment`)
  let decoded: string
  try {
    decoded = decodeURIComponent(encoded)
  } catch {
    return bad(`${q(filename)} has a broken %-escape`)
  }
  const path = `file${decoded}`
  const problem = nameProblem(path, false)
  if (problem) return bad(`${q(filename)} is not a plain script path`)
  return { ok: true, path }
}

interface Counted {
  name: string
  size: number
  /** The contents as read (views of the uploaded bytes, so bounded by the caps like them). */
  chunks: Uint8Array[]
}

/**
 * Reads an uploaded k6 archive. Returns its summary, or every problem found (reading stops at the
 * first problem that makes the rest unreadable, and as soon as a cap is passed).
 */
export async function readK6Archive(bytes: Uint8Array, caps: FileCaps): Promise<ArchiveCheck> {
  const sniffed = sniff(bytes)
  if (sniffed) return { ok: false, problems: [sniffed] }

  const problems: string[] = []
  let reading = true
  const problem = (message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(message)
    // Enough to act on: a crafted archive of many bad entries is not read to its end.
    if (reading && problems.length >= MAX_PROBLEMS) throw new Stop(message)
  }
  const stop = (message: string): never => {
    problem(message)
    throw new Stop(message)
  }

  const seen = new Map<string, string>() // NFC form → name as given
  const files: Counted[] = [] // regular files under file/ and https/
  const dirs = new Set<string>()
  let metadata: Uint8Array | null = null
  let data: Uint8Array | null = null
  let link: string | null = null
  let totalBytes = 0
  let fileCount = 0
  let folderCount = 0
  let entries = 0
  let lastName: string | null = null
  let end = 0 // offset just after the last entry (its header and body)

  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const extract = tarExtract()
  const iterator = extract[Symbol.asyncIterator]()
  extract.end(input)

  try {
    for (;;) {
      const next = await iterator.next()
      if (next.done) break
      const entry = next.value
      const header: Header = entry.header
      const name = header.name
      const at = entry.offset
      const block = input.subarray(at, at + BLOCK)
      const flag = block[156] ?? 0
      entries++

      // Between the previous entry and this header k6 writes nothing but PAX records.
      checkGap(input, end, at, name, lastName, stop)

      if (!startsWith(block.subarray(257, 265), [0x75, 0x73, 0x74, 0x61, 0x72, 0x00, 0x30, 0x30])) {
        stop(`The entry ${q(name)} has a header in another tar dialect than the USTAR/PAX one k6 writes; ${REMAKE}.`)
      }
      const rawSize = octalField(block, 124, 12)
      if (rawSize === null) stop(`The entry ${q(name)} has a size field that is not a plain number; the archive is damaged. ${cap(REMAKE)}.`)
      checkPax(header, name, stop)

      const kind = flag === 0x30 ? 'file' : flag === 0x35 ? 'directory' : flag === 0x31 ? 'link' : null
      if (kind === null) {
        const message = `The entry ${q(name)} is ${typeName(flag)}; a k6 archive holds only files and folders (and the script's link to data). Replace it with the real file and ${REMAKE}.`
        // An entry with a body whose length the two tar readers may count differently ends reading.
        if (header.size !== 0 || rawSize !== 0) stop(message)
        problem(message)
        lastName = name
        end = at + BLOCK
        continue
      }
      if (kind === 'file' && header.type !== 'file') {
        // A regular-file flag on a name ending in "/": tar-stream would read a folder, k6 a file.
        stop(`The entry ${q(name)} is a file whose name ends with "/"; the archive is damaged or crafted. ${cap(REMAKE)}.`)
      }
      if (kind !== 'file' && (header.size !== 0 || rawSize !== 0)) {
        stop(`The entry ${q(name)} is a ${kind === 'link' ? 'hard link' : 'folder'} that claims ${formatFileSize(header.size)} of content; in a k6 archive it has none. The archive is damaged or crafted; ${REMAKE}.`)
      }

      const issue = nameProblem(name, kind === 'directory')
      const bare = kind === 'directory' && name.endsWith('/') ? name.slice(0, -1) : name
      if (issue) problem(issue)
      else {
        const key = bare.normalize('NFC')
        const before = seen.get(key)
        if (before !== undefined) {
          problem(before === bare
            ? `The entry ${q(bare)} appears twice in the archive; each entry needs its own name. ${cap(REMAKE)}.`
            : `The entries ${q(before)} and ${q(bare)} are the same name written two ways (Unicode normalisation); rename one and ${REMAKE}.`)
        }
        seen.set(key, bare)
        const placement = placementProblem(bare, kind)
        if (placement) problem(placement)
      }

      if (kind === 'directory') {
        if (++folderCount > MAX_ARCHIVE_FOLDERS) stop(`The archive has more than ${MAX_ARCHIVE_FOLDERS} folders; k6 archives of a test have far fewer. Remove files the test does not use and ${REMAKE}.`)
        dirs.add(bare)
      } else if (kind === 'link') {
        const target = header.linkname ?? ''
        if (target !== 'data') {
          problem(`The entry ${q(name)} is a hard link to ${q(target)}; the only link a k6 archive holds is its script's link to data. Replace it with the real file and ${REMAKE}.`)
        } else if (link !== null) {
          problem(`The entry ${q(name)} is a second hard link to data (${q(link)} is the first); a k6 archive links only its script to data. ${cap(REMAKE)}.`)
        } else link = name
      } else {
        const special = name === 'metadata.json' || name === 'data'
        if (!special && ++fileCount > caps.maxFiles) {
          stop(`The archive holds more than ${caps.maxFiles} files; the limit is ${caps.maxFiles}. Remove files the test does not read, or pack data into fewer files, and ${REMAKE}.`)
        }
        const limit = name === 'metadata.json' ? Math.min(MAX_METADATA_BYTES, caps.maxFileBytes) : caps.maxFileBytes
        const keep: Uint8Array[] = []
        let read = 0
        for await (const chunk of entry as AsyncIterable<Uint8Array>) {
          read += chunk.byteLength
          totalBytes += chunk.byteLength
          if (read > limit) {
            stop(name === 'metadata.json' && limit === MAX_METADATA_BYTES
              ? `metadata.json is larger than ${formatFileSize(MAX_METADATA_BYTES)}; k6 writes a few KB there. The archive is damaged or crafted; ${REMAKE}.`
              : `${q(name)} is larger than ${formatFileSize(caps.maxFileBytes)}, the limit for one file. Make the file smaller (or split it) and ${REMAKE}.`)
          }
          if (totalBytes > caps.maxTotalBytes) {
            stop(`The archive's contents add up to more than ${formatFileSize(caps.maxTotalBytes)} (passed while reading ${q(name)}); the limit is ${formatFileSize(caps.maxTotalBytes)}. Remove or shrink files the test does not need and ${REMAKE}.`)
          }
          keep.push(chunk)
        }
        if (read !== header.size) stop(`The entry ${q(name)} is shorter than its header says; the archive is damaged. ${cap(REMAKE)}.`)
        if (special) {
          const joined = Buffer.concat(keep)
          if (name === 'metadata.json') metadata = joined
          else data = joined
        } else files.push({ name, size: read, chunks: keep })
      }
      lastName = name
      end = at + BLOCK + (kind === 'file' ? padded(header.size) : 0)
    }
  } catch (err) {
    reading = false
    if (!(err instanceof Stop)) problem(readFailure(err, entries, lastName))
    return { ok: false, problems: tooMany(problems) }
  } finally {
    reading = false
    extract.destroy()
  }

  if (entries === 0) return { ok: false, problems: [`The archive has no entries; ${REMAKE}.`] }
  if (!isZero(input, end, input.length)) {
    problem(`The archive has data after its last entry ${q(lastName ?? '')} that k6 would not read; ${REMAKE}.`)
  }

  // The entry script, from metadata.json and data.
  let parsed: Record<string, unknown> | null = null
  let entryPath: string | null = null
  if (metadata === null) problem(`The archive has no metadata.json, so it is not a k6 archive (or it is damaged). Make one with \`k6 archive script.js\`.`)
  else {
    try {
      const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(metadata))
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>
      else problem(`The archive's metadata.json is not a JSON object; ${REMAKE}.`)
    } catch {
      problem(`The archive's metadata.json is not valid JSON; the archive is damaged. ${cap(REMAKE)}.`)
    }
  }
  if (parsed) {
    if (parsed.type !== undefined && parsed.type !== 'js') problem(`The archive's metadata.json says its type is ${q(String(parsed.type))}; Stampede runs k6 archives of JavaScript/TypeScript tests ("js"). ${cap(REMAKE)}.`)
    const from = entryPathFrom(parsed.filename)
    if (from.ok) entryPath = from.path
    else problem(from.message)
  }
  let source: string | null = null
  if (data === null) problem(`The archive has no data entry (the entry script's source), so it is not a complete k6 archive. ${cap(REMAKE)}.`)
  else {
    try {
      source = new TextDecoder('utf-8', { fatal: true }).decode(data)
    } catch {
      problem(`The archive's entry script (data) is not UTF-8 text; save the script as UTF-8 and ${REMAKE}.`)
    }
  }
  if (entryPath !== null) {
    if (link !== null && link !== entryPath) {
      problem(`The entry ${q(link)} links to data, but metadata.json names ${q(entryPath)} as the script; the archive is inconsistent. ${cap(REMAKE)}.`)
    }
    if (dirs.has(entryPath)) problem(`metadata.json names ${q(entryPath)} as the script, but the archive holds it as a folder. ${cap(REMAKE)}.`)
  }

  // A name that is both a file and a folder of other entries.
  const folders = new Set<string>()
  for (const key of seen.keys()) {
    const parts = key.split('/')
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'))
  }
  for (const f of [...files.map((f) => f.name), ...(link ? [link] : []), 'metadata.json', 'data']) {
    if (folders.has(f.normalize('NFC'))) problem(`The entry ${q(f)} is both a file and a folder of other entries; ${REMAKE}.`)
  }

  if (problems.length > 0 || entryPath === null || source === null) return { ok: false, problems: tooMany(problems) }

  const entryDir = entryPath.slice(0, entryPath.lastIndexOf('/') + 1)
  const entryName = entryPath.slice(entryDir.length)
  const local: { path: string; size: number }[] = []
  const remote: string[] = []
  // A file outside the script's folder could show under the same path as one inside it; the
  // outside one then keeps its archive name (file/…), so every listed path names one file.
  const inside = new Set(files.filter((f) => f.name.startsWith(entryDir)).map((f) => f.name.slice(entryDir.length)))
  for (const f of files) {
    if (f.name === entryPath) continue // an older k6's copy of the script; k6 runs data instead
    if (f.name.startsWith('https/')) {
      const url = `https://${f.name.slice('https/'.length)}`
      if (URL.canParse(url)) remote.push(url)
      else problem(`The remote module ${q(f.name)} does not name a valid https URL; ${REMAKE}.`)
    } else if (f.name.startsWith(entryDir)) local.push({ path: f.name.slice(entryDir.length), size: f.size })
    else {
      const shown = f.name.slice('file/'.length)
      local.push({ path: inside.has(shown) ? f.name : shown, size: f.size })
    }
  }
  if (problems.length > 0) return { ok: false, problems: tooMany(problems) }
  checkModules({ entryPath, entryName, entryDir, source, files }, problem)
  if (problems.length > 0) return { ok: false, problems: tooMany(problems) }
  local.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  remote.sort()

  return {
    ok: true,
    archive: {
      entry: { name: entryName, source, language: /\.[cm]?ts$/i.test(entryName) ? 'typescript' : 'javascript' },
      files: local,
      remote,
      k6Version: parsed && typeof parsed.k6version === 'string' ? parsed.k6version : null,
      totalBytes,
    },
  }
}

/** Where an entry may sit: metadata.json and data at the top, everything else below file/ or https/. */
function placementProblem(name: string, kind: 'file' | 'directory' | 'link'): string | null {
  if (name === 'metadata.json' || name === 'data') {
    return kind === 'file' ? null : `The entry ${q(name)} is a ${kind === 'link' ? 'hard link' : 'folder'}; in a k6 archive it is a regular file. ${cap(REMAKE)}.`
  }
  if (name === 'file' || name === 'https') {
    return kind === 'directory' ? null : `The entry ${q(name)} must be a folder in a k6 archive. ${cap(REMAKE)}.`
  }
  if (kind === 'link' && !name.startsWith('file/')) {
    return `The entry ${q(name)} is a hard link outside file/; the only link a k6 archive holds is its script's link to data. ${cap(REMAKE)}.`
  }
  if (name.startsWith('file/') || name.startsWith('https/')) return null
  return `The entry ${q(name)} is not part of a k6 archive (it holds metadata.json, data, and folders file/ and https/). Remove it, or ${REMAKE}.`
}

/** Only PAX extension headers may precede an entry's header: walks them in the raw bytes. */
function checkGap(input: Uint8Array, from: number, to: number, name: string, previous: string | null, stop: (m: string) => never): void {
  const where = previous === null ? `before its first entry ${q(name)}` : `between the entries ${q(previous)} and ${q(name)}`
  let pos = from
  while (pos < to) {
    const block = input.subarray(pos, pos + BLOCK)
    if (isZero(block, 0, BLOCK)) stop(`The archive has an end-of-archive marker ${where}, so k6 would not read what follows; ${REMAKE}.`)
    const flag = block[156] ?? 0
    if (flag !== 0x78) stop(`The archive has ${typeName(flag)} header ${where}; k6 archives never contain one. ${cap(REMAKE)}.`)
    const length = octalField(block, 124, 12)
    if (length === null) stop(`The archive has a damaged extension header ${where}; ${REMAKE}.`)
    pos += BLOCK + padded(length)
  }
  if (pos !== to) stop(`The archive's headers do not line up ${where}; the archive is damaged. ${cap(REMAKE)}.`)
}

/** PAX records other than those k6's writer emits could be read differently by k6 than here. */
function checkPax(header: Header, name: string, stop: (m: string) => never): void {
  const pax = header.pax
  if (pax === null || pax === undefined) return
  for (const [key, value] of Object.entries(pax as Record<string, unknown>)) {
    if (!ALLOWED_PAX_KEYS.has(key)) stop(`The entry ${q(name)} carries the tar extension record ${q(key)}, which k6 archives never contain; ${REMAKE}.`)
    if (key === 'size' && !/^\d+$/.test(String(value))) stop(`The entry ${q(name)} has an extended size record that is not a number; the archive is damaged. ${cap(REMAKE)}.`)
  }
}

function tooMany(problems: string[]): string[] {
  return problems.length >= MAX_PROBLEMS ? [...problems, `…and possibly more; fix these first.`] : problems
}

/** tar-stream's own errors, as sentences for the user (its text is never shown). */
function readFailure(err: unknown, entries: number, lastName: string | null): string {
  const text = err instanceof Error ? err.message : ''
  const after = lastName === null ? 'at its start' : `after the entry ${q(lastName)}`
  if (/Unexpected end of data/.test(text)) {
    return lastName === null
      ? `The archive ends before its first entry is complete; the file is truncated. Upload the whole file, or ${REMAKE}.`
      : `The archive ends in the middle of an entry (${after}); the file is truncated. Upload the whole file, or ${REMAKE}.`
  }
  if (entries === 0 && /Invalid tar header/.test(text)) return 'The file is not a tar archive. Upload the .tar file that `k6 archive script.js` writes.'
  if (/unknown format/.test(text)) return `The archive has a header in an old tar dialect ${after}; k6 writes USTAR/PAX. ${cap(REMAKE)}.`
  if (/Header exceeds max size/.test(text)) return `The archive has an oversized extension header ${after}; the archive is damaged or crafted. ${cap(REMAKE)}.`
  return `The archive is damaged ${after}: a tar header there cannot be read. ${cap(REMAKE)}.`
}

/** Entries under file/ that are modules by their name; others are checked when a module imports them. */
const REMAKE_ARCHIVE = 're-create the archive with `k6 archive script.js`'

/** Where k6 looks for a module: an entry name under file/ or https/ (or plain http, which k6 refuses). */
type Target = { scheme: 'file'; name: string } | { scheme: 'https'; name: string; url: string } | { scheme: 'http'; url: string }

interface ModuleSet {
  entryPath: string
  entryName: string
  entryDir: string
  source: string
  files: Counted[]
}

/** Refuses modules that would make k6 fetch something, or whose imports cannot be checked. */
function checkModules(set: ModuleSet, problem: (message: string) => void): void {
  const { entryPath, entryName, entryDir, source, files } = set
  const byName = new Map(files.map((f) => [f.name, f]))
  const reported = new Set<string>()
  const report = (message: string): void => {
    if (reported.has(message)) return
    reported.add(message)
    problem(message)
  }
  const shown = (name: string): string => {
    if (name === entryPath) return `The script ${q(entryName)}`
    if (name.startsWith('https/')) return `The remote module ${q(`https://${name.slice('https/'.length)}`)}`
    return `The module ${q(name.startsWith(entryDir) ? name.slice(entryDir.length) : name.slice('file/'.length))}`
  }

  const others = files
    .filter((f) => f.name !== entryPath && (f.name.startsWith('https/') || isModulePath(f.name)))
    .map((f) => f.name)
    .sort()
  const queue = [entryPath, ...others]
  const queued = new Set(queue)
  const decoder = new TextDecoder('utf-8')

  for (let i = 0; i < queue.length; i++) {
    const name = queue[i]!
    const file = byName.get(name)
    const text = name === entryPath ? source : decoder.decode(Buffer.concat(file?.chunks ?? []))
    const who = shown(name)
    // k6 reads the source map comment while parsing, so also for a module that then fails to parse.
    const map = sourceMapComment(text)
    if (map !== null) {
      const target = sourceMapTarget(name, map.url)
      if (target !== null && !byName.has(target.name)) {
        report(`${who} ends with a source map comment (line ${map.line}) pointing to ${q(target.url)}, which the archive does not carry, so k6 would download it while loading the test; Stampede never fetches what a test loads. Remove the //# sourceMappingURL line (or inline the map as a data:application/json URL) and ${REMAKE_ARCHIVE}.`)
      }
    }
    const refs = scriptReferences(text, name === entryPath ? entryName : name.slice(name.lastIndexOf('/') + 1))
    if (!refs.ok) continue // k6 reports a module that does not parse when it validates the test

    for (const imp of refs.imports) {
      const target = k6Target(name, imp.specifier)
      if (target === null) continue
      const at = `(line ${imp.line}:${imp.column})`
      if (target.scheme === 'http') {
        report(`${who} imports ${q(imp.specifier)} ${at} over plain http://, which k6 refuses: it loads remote modules over https:// only. Import the https:// URL and ${REMAKE_ARCHIVE} where that URL is reachable (k6 then stores the module in the archive).`)
      } else if (target.scheme === 'https') {
        if (byName.has(target.name)) continue
        const resolved = target.url === imp.specifier ? '' : `, which k6 resolves to ${q(target.url)}`
        report(`${who} imports ${q(imp.specifier)} ${at}${resolved}, but the archive does not carry that module, so k6 would download it while loading the test; Stampede never fetches what a test loads. Run \`k6 archive\` where the URL is reachable (k6 then stores the module in the archive), or save the module next to the script, import it by a relative path and ${REMAKE_ARCHIVE}.`)
      } else if (byName.has(target.name) && !queued.has(target.name)) {
        // A local file imported as a module whatever its name: it is checked like the others.
        queued.add(target.name)
        queue.push(target.name)
      }
    }

    for (const c of refs.computedImports) {
      const call = c.kind === 'import' ? 'import()' : 'require()'
      report(`${who} loads a module whose name is computed (${call} at line ${c.line}:${c.column}). Stampede checks what a test loads before it runs, so give the module name as a literal string (e.g. ${c.kind === 'import' ? "import('./lib.js')" : "require('./lib.js')"}) and ${REMAKE_ARCHIVE}.`)
    }
  }
}

/** A module's place as k6 sees it: its scheme, host (https only) and path, from its entry name. */
function moduleBase(name: string): { scheme: 'file' | 'https'; host: string; path: string } {
  if (name.startsWith('https/')) {
    const rest = name.slice('https/'.length)
    const slash = rest.indexOf('/')
    return slash === -1 ? { scheme: 'https', host: rest, path: '' } : { scheme: 'https', host: rest.slice(0, slash), path: rest.slice(slash) }
  }
  return { scheme: 'file', host: '', path: name.slice('file'.length) }
}

/**
 * Where k6 loads `specifier` from when the module at entry name `from` imports it, or null when k6
 * loads nothing from the archive or the network for it (its own modules, names it refuses).
 * k6 resolves names starting with "." or "/" against the importing module's URL (so inside a
 * remote module they are remote too), takes names with "://" as URLs (any case of the scheme;
 * only https and file are allowed), and looks a URL up in the archive under
 * `<scheme>` + the cleaned, %-decoded text after `<scheme>:/` (host, path, query and fragment).
 */
function k6Target(from: string, specifier: string): Target | null {
  if (specifier === '' || specifier === 'k6' || specifier.startsWith('k6/')) return null
  const base = moduleBase(from)
  if (specifier.startsWith('.') || specifier.startsWith('/')) return relativeTarget(base, specifier)
  if (!specifier.includes('://')) return null
  return absoluteTarget(base, specifier)
}

function absoluteTarget(base: { scheme: 'file' | 'https' }, url: string): Target | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)
  if (!m) return null
  const scheme = m[1]!.toLowerCase()
  const rest = url.slice(m[0].length)
  if (scheme === 'http') return { scheme: 'http', url }
  if (scheme === 'https') return entryTarget('https', rest)
  if (scheme === 'file' && base.scheme === 'file') return entryTarget('file', rest)
  return null
}

/** A reference without a scheme, resolved against the module's URL (RFC 3986, as Go's url package does). */
function relativeTarget(base: { scheme: 'file' | 'https'; host: string; path: string }, ref: string): Target | null {
  if (ref.startsWith('//')) return entryTarget(base.scheme, ref)
  const cut = ref.search(/[?#]/)
  const refPath = cut === -1 ? ref : ref.slice(0, cut)
  const suffix = cut === -1 ? '' : ref.slice(cut)
  const dir = base.path.slice(0, base.path.lastIndexOf('/') + 1) || '/'
  const path = cleanPath(refPath.startsWith('/') ? refPath : dir + refPath)
  return entryTarget(base.scheme, `//${base.host}${path}${suffix}`)
}

/** The entry name k6 reads for `<scheme>:<rest>`, or null when k6 cannot decode the name (and fails). */
function entryTarget(scheme: 'file' | 'https', rest: string): Target | null {
  const decoded = percentDecode(cleanPath(rest.slice(1)))
  if (decoded === null) return null
  const name = `${scheme}${decoded}`
  return scheme === 'https' ? { scheme, name, url: `https:${rest}` } : { scheme, name }
}

/** Go's path.Clean. */
function cleanPath(p: string): string {
  const rooted = p.startsWith('/')
  const out: string[] = []
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!rooted) out.push('..')
    } else out.push(seg)
  }
  const joined = (rooted ? '/' : '') + out.join('/')
  return joined === '' ? '.' : joined
}

/** Go's url.PathUnescape: %XX to bytes, read as UTF-8; null for a broken escape. */
function percentDecode(s: string): string | null {
  if (!s.includes('%')) return s
  const bytes: number[] = []
  for (let i = 0; i < s.length; ) {
    if (s[i] === '%') {
      const hex = s.slice(i + 1, i + 3)
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null
      bytes.push(parseInt(hex, 16))
      i += 3
    } else {
      const ch = String.fromCodePoint(s.codePointAt(i)!)
      bytes.push(...utf8.encode(ch))
      i += ch.length
    }
  }
  return new TextDecoder('utf-8').decode(new Uint8Array(bytes))
}

/** The `//# sourceMappingURL=` comment k6 follows: the last line that is not empty, if it is one. */
function sourceMapComment(text: string): { url: string; line: number } | null {
  const lines = text.split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!
    if (line === '' || line === '})') continue
    if (!line.startsWith('//# sourceMappingURL=')) return null
    return { url: line.slice(line.indexOf('=') + 1), line: i + 1 }
  }
  return null
}

/** The remote entry k6 reads a source map from (inline data: maps and local ones need no network). */
function sourceMapTarget(from: string, url: string): { name: string; url: string } | null {
  if (url.startsWith('data:application/json')) return null
  const trimmed = url.trim()
  if (trimmed === '') return null
  const base = moduleBase(from)
  const target = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(trimmed) ? absoluteTarget(base, trimmed) : relativeTarget(base, trimmed)
  return target !== null && target.scheme === 'https' ? target : null
}
