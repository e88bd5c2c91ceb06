// A test's files as the web edits them: the list (path, hash, size), what was last saved, the
// text of the files opened in the editor, which file is selected for its preview and which are
// open as tabs. Picked files are uploaded at once (POST /files), so the list always names stored
// contents; an edited text file is uploaded when the set is needed (validate, save, run), by
// `refs()`. Renames and new names are checked with the same rules as the API (checkFilePath,
// checkFileSet) so a bad name is refused where it is typed.
import { checkFilePath, checkFileSet } from '@stampede/shared/files'
import { describeError } from '../api/client.ts'
import { isTextPath } from './kinds.ts'
import { readStoredFile, uploadContents, type FileRef, type StoredFile } from './upload.ts'

export interface FileEntry extends StoredFile {
  /** The stored content as text, once read for the editor or the preview. */
  original?: string | undefined
  /** The editor's text; differs from `original` when edited and not yet uploaded. */
  text?: string | undefined
}

/** A picked file and the path it gets. */
export interface PickedFile {
  path: string
  file: Blob
}

/** What a draft keeps of the files: the list and the edited texts. */
export interface FileSetSnapshot {
  files: StoredFile[]
  saved: StoredFile[]
  edits: Record<string, string>
}

const NO_CAPS = { maxFileBytes: Infinity, maxTotalBytes: Infinity, maxFiles: Infinity }

const sameRefs = (a: readonly FileRef[], b: readonly FileRef[]) => a.length === b.length && a.every((f, i) => f.path === b[i]!.path && f.sha256 === b[i]!.sha256)

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)

export const isEdited = (f: FileEntry): boolean => f.text !== undefined && f.text !== f.original

export class FileSet {
  entries = $state<FileEntry[]>([])
  /** The set as the saved test holds it (sorted by path). */
  saved = $state.raw<StoredFile[]>([])
  /** The file whose preview is shown. */
  selected = $state<string | null>(null)
  /** Text files open as editor tabs, in the order opened; `active` is the one shown (null: the script). */
  tabs = $state<string[]>([])
  active = $state<string | null>(null)

  uploading = $state(false)
  /** Why the last upload, rename or read failed (the API's message as it came). */
  error = $state<string | null>(null)
  /** What the last upload did, for the status line. */
  note = $state<string | null>(null)
  /** Reads in flight or failed, by path. */
  reading = $state<Record<string, string | true>>({})

  /** The list differs from the saved set, or a file's text was edited. */
  readonly changed = $derived(!sameRefs(this.entries, this.saved) || this.entries.some(isEdited))
  readonly totalSize = $derived(this.entries.reduce((n, f) => n + f.size, 0))

  constructor(readonly projectId: string) {}

  /** Replaces everything with a saved test's files. */
  reset(files: readonly StoredFile[]): void {
    const sorted = [...files].sort(byPath).map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }))
    this.entries = sorted.map((f) => ({ ...f }))
    this.saved = sorted
    this.tabs = []
    this.active = null
    this.selected = null
    this.error = null
    this.note = null
    this.reading = {}
  }

  /** After a save: the set the API stored is now the saved one. */
  markSaved(files: readonly StoredFile[]): void {
    this.saved = [...files].sort(byPath).map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }))
  }

  snapshot(): FileSetSnapshot {
    const edits: Record<string, string> = {}
    for (const f of this.entries) if (isEdited(f)) edits[f.path] = f.text!
    return { files: this.entries.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })), saved: this.saved, edits }
  }

  restore(snapshot: FileSetSnapshot): void {
    this.entries = snapshot.files.map((f) => ({ ...f, ...(snapshot.edits[f.path] !== undefined ? { text: snapshot.edits[f.path] } : {}) }))
    this.saved = snapshot.saved
  }

  find(path: string): FileEntry | undefined {
    return this.entries.find((f) => f.path === path)
  }

  /**
   * Uploads picked files into the set; a picked file with the name of one already there replaces
   * it. Every name is checked first: one bad name refuses the whole pick, with every reason.
   */
  async add(picked: readonly PickedFile[]): Promise<boolean> {
    this.error = null
    this.note = null
    const problems: string[] = []
    const paths: string[] = []
    for (const p of picked) {
      const checked = checkFilePath(p.path)
      if (!checked.ok) problems.push(checked.message)
      else if (paths.includes(checked.path)) problems.push(`${checked.path} is picked twice; each file needs its own name.`)
      else paths.push(checked.path)
    }
    if (problems.length === 0) {
      const kept = this.entries.filter((f) => !paths.includes(f.path))
      for (const p of checkFileSet([...kept, ...paths.map((path, i) => ({ path, size: picked[i]!.file.size }))], NO_CAPS)) problems.push(p.message)
    }
    if (problems.length > 0) {
      this.error = problems.join('\n')
      return false
    }
    if (picked.length === 0) return true
    this.uploading = true
    try {
      const contents = await Promise.all(picked.map(async (p) => new Uint8Array(await p.file.arrayBuffer())))
      const stored = await uploadContents(this.projectId, contents)
      const added = paths.map((path, i) => ({ path, sha256: stored[i]!.sha256, size: stored[i]!.size }))
      const replaced = added.filter((a) => this.find(a.path)).length
      this.entries = [...this.entries.filter((f) => !paths.includes(f.path)), ...added].sort(byPath)
      this.selected = added[0]?.path ?? this.selected
      this.note = `Uploaded ${added.length} file${added.length === 1 ? '' : 's'}${replaced > 0 ? ` (${replaced} replaced)` : ''}.`
      return true
    } catch (err) {
      this.error = `Could not upload: ${describeError(err)}`
      return false
    } finally {
      this.uploading = false
    }
  }

  /** Renames a file; answers why not (the name rules' message), or null when renamed. */
  rename(from: string, to: string): string | null {
    const checked = checkFilePath(to)
    if (!checked.ok) return checked.message
    if (checked.path === from) return null
    if (this.find(checked.path)) return `A file named ${checked.path} is already in the test; remove it first or pick another name.`
    const next = this.entries.map((f) => (f.path === from ? { ...f, path: checked.path } : f))
    const problem = checkFileSet(next, NO_CAPS).find((p) => p.path === checked.path || p.path === undefined)
    if (problem) return problem.message
    this.entries = next.sort(byPath)
    this.tabs = this.tabs.map((t) => (t === from ? checked.path : t))
    if (this.active === from) this.active = checked.path
    if (this.selected === from) this.selected = checked.path
    const status = this.reading[from]
    if (status !== undefined) {
      const { [from]: _, ...rest } = this.reading
      this.reading = { ...rest, [checked.path]: status }
    }
    return null
  }

  remove(path: string): void {
    this.entries = this.entries.filter((f) => f.path !== path)
    this.close(path)
    if (this.selected === path) this.selected = null
  }

  /** Opens a text file as an editor tab (reading it first) and shows it. */
  async open(path: string): Promise<void> {
    if (!isTextPath(path)) return
    if (!this.tabs.includes(path)) this.tabs = [...this.tabs, path]
    this.active = path
    await this.load(path, true)
  }

  close(path: string): void {
    const at = this.tabs.indexOf(path)
    if (at < 0) return
    this.tabs = this.tabs.filter((t) => t !== path)
    if (this.active === path) this.active = this.tabs[Math.min(at, this.tabs.length - 1)] ?? null
  }

  /** Reads a text file's stored content (files.read) unless it already is, or failed (then only when `retry`). */
  async load(path: string, retry = false): Promise<void> {
    const entry = this.find(path)
    if (!entry || entry.original !== undefined || this.reading[path] === true || (this.reading[path] !== undefined && !retry)) return
    const sha256 = entry.sha256
    this.reading = { ...this.reading, [path]: true }
    try {
      const bytes = await readStoredFile(this.projectId, sha256)
      let text: string
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
      } catch {
        throw new Error(`${path} is not UTF-8 text; it can be replaced by an upload, not edited here.`)
      }
      const now = this.entries.find((f) => f.sha256 === sha256 && (f.path === path || f.original === undefined))
      if (now) {
        now.original = text
        if (now.text === undefined) now.text = text
      }
      const { [path]: _, ...rest } = this.reading
      this.reading = rest
    } catch (err) {
      this.reading = { ...this.reading, [path]: describeError(err) }
    }
  }

  setText(path: string, text: string): void {
    const entry = this.find(path)
    if (entry) entry.text = text
  }

  /** The set as tests and runs take it, uploading the edited texts first. */
  async refs(): Promise<FileRef[]> {
    const edited = this.entries.filter(isEdited)
    if (edited.length > 0) {
      const texts = edited.map((f) => f.text!)
      const stored = await uploadContents(this.projectId, texts.map((t) => new TextEncoder().encode(t)))
      edited.forEach((f, i) => {
        const entry = this.find(f.path)
        if (!entry || entry.text !== texts[i]) return // edited again meanwhile: stays edited
        entry.sha256 = stored[i]!.sha256
        entry.size = stored[i]!.size
        entry.original = texts[i]
      })
    }
    return this.entries.map((f) => ({ path: f.path, sha256: f.sha256 }))
  }
}
