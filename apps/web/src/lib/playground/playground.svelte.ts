// The playground's state for one project: the script in the editor, the saved test it belongs
// to (if any), the last validation and the actions (validate, save, run, load a template or a
// test). A run of an unchanged saved test is started by its id, so it lands in the test's
// history; anything else runs as an unsaved script. The draft survives leaving the page (per
// tab, per project) so a person can go and watch a run and come back to the same script.
// Raw samples (k6's per-sample stream kept as the run's `samples` download, at a cost in k6's
// throughput) are a setting of the test, saved with it, and an option of each run, which starts
// as the test's setting.
// A test's files (data files and modules beside the script) are edited here too (FileSet): they
// are validated, saved and run with the script. A test that runs a k6 archive shows its entry
// script read-only; it is changed by uploading a new archive.
import type { StoredArchive } from '@stampede/shared/files'
import { api, describeError, errorCode, type RouterOutputs } from '../api/client.ts'
import { FileSet, type FileSetSnapshot } from '../files/file-set.svelte.ts'
import type { FileRef, StoredFile } from '../files/upload.ts'
import { DEFAULT_SCRIPT } from './default-script.ts'

export type ScriptValidation = RouterOutputs['scripts']['validate']
export type TemplateSummary = RouterOutputs['templates']['list'][number]

export interface SavedTest {
  id: string
  name: string
  /** The test's raw-samples setting as saved. */
  rawSamples: boolean
}

export interface Draft {
  script: string
  name: string
  test: SavedTest | null
  savedScript: string | null
  /** The editor's raw-samples setting for the test (saved with it). */
  rawSamples: boolean
  /** Raw samples for the next run. */
  runRawSamples: boolean
  /** The test's files as edited (absent in drafts stored before files existed). */
  files?: FileSetSnapshot | undefined
  /** The archive the saved test runs, if it runs one. */
  archive?: StoredArchive | null | undefined
}

/** What the raw-samples checkboxes say they cost. */
export const RAW_SAMPLES_HELP =
  "Keeps k6's per-sample stream (every single measurement) as a download of the run, samples.json.gz, next to the per-second metrics every run keeps. It costs throughput: k6 makes up to ~40 % fewer requests per second on CPU-bound scripts."


const draftKey = (projectId: string) => `stampede.playground.${projectId}`

/** A stored draft, or null when there is none or it is not one (storage is the user's). */
export function parseDraft(raw: string | null): Draft | null {
  if (!raw) return null
  try {
    const d = JSON.parse(raw) as Partial<Draft>
    if (typeof d.script !== 'string' || typeof d.name !== 'string') return null
    const test = d.test && typeof d.test.id === 'string' && typeof d.test.name === 'string' ? { id: d.test.id, name: d.test.name, rawSamples: d.test.rawSamples === true } : null
    // Drafts stored before raw samples existed have neither setting: off, as the tests were.
    const rawSamples = typeof d.rawSamples === 'boolean' ? d.rawSamples : (test?.rawSamples ?? false)
    const runRawSamples = typeof d.runRawSamples === 'boolean' ? d.runRawSamples : rawSamples
    const draft: Draft = { script: d.script, name: d.name, test, savedScript: test && typeof d.savedScript === 'string' ? d.savedScript : null, rawSamples, runRawSamples }
    const files = parseFileSnapshot(d.files)
    if (files) draft.files = files
    if (test && isArchive(d.archive)) draft.archive = d.archive
    return draft
  } catch {
    return null
  }
}

const isStoredFile = (f: unknown): f is StoredFile => {
  const x = f as Partial<StoredFile> | null
  return typeof x?.path === 'string' && typeof x.sha256 === 'string' && typeof x.size === 'number'
}
const isArchive = (a: unknown): a is StoredArchive => typeof (a as StoredArchive | null)?.sha256 === 'string' && typeof (a as StoredArchive).size === 'number'

function parseFileSnapshot(raw: unknown): FileSetSnapshot | null {
  const s = raw as Partial<FileSetSnapshot> | null | undefined
  if (!s || !Array.isArray(s.files) || !Array.isArray(s.saved) || !s.files.every(isStoredFile) || !s.saved.every(isStoredFile)) return null
  const edits: Record<string, string> = {}
  if (s.edits && typeof s.edits === 'object') for (const [path, text] of Object.entries(s.edits)) if (typeof text === 'string') edits[path] = text
  return { files: s.files, saved: s.saved, edits }
}

/**
 * What Run starts: the saved test when the editor holds exactly what was saved, else the script;
 * raw samples always as the run's checkbox says (so an unsaved change of the test's setting
 * applies too).
 */
export function runInput(
  projectId: string,
  draft: Pick<Draft, 'script' | 'test' | 'savedScript' | 'runRawSamples'> & { filesChanged?: boolean },
  location: string,
  files: readonly FileRef[] = [],
): { testId: string; location: string; rawSamples: boolean } | { projectId: string; script: string; location: string; rawSamples: boolean; files?: FileRef[] } {
  const rawSamples = draft.runRawSamples
  if (draft.test && draft.script === draft.savedScript && !draft.filesChanged) return { testId: draft.test.id, location, rawSamples }
  return { projectId, script: draft.script, location, rawSamples, ...(files.length > 0 ? { files: [...files] } : {}) }
}

/** The editor differs from the saved test: its script, name, raw-samples setting or files (or there is no test). */
export function hasUnsavedChanges(draft: Pick<Draft, 'script' | 'name' | 'test' | 'savedScript' | 'rawSamples'> & { filesChanged?: boolean }): boolean {
  return draft.test === null || draft.script !== draft.savedScript || draft.name.trim() !== draft.test.name || draft.rawSamples !== draft.test.rawSamples || draft.filesChanged === true
}

export class Playground {
  script = $state(DEFAULT_SCRIPT)
  name = $state('')
  test = $state.raw<SavedTest | null>(null)
  savedScript = $state<string | null>(null)
  /** The test's raw-samples setting in the editor; change it with setRawSamples. */
  rawSamples = $state(false)
  /** Raw samples for the next run: the test's setting unless changed for this run. */
  runRawSamples = $state(false)
  /** The files beside the script. */
  readonly files: FileSet
  /** The k6 archive the open test runs instead of a script and files (its script is then read-only). */
  archive = $state.raw<StoredArchive | null>(null)

  validation = $state.raw<ScriptValidation | null>(null)
  /** The script the validation is about; the editor may have moved on since. */
  validatedScript = $state<string | null>(null)
  validating = $state(false)
  validateError = $state<string | null>(null)

  saving = $state(false)
  saveError = $state<string | null>(null)
  /** When the editor was last saved (ms), for the "saved" note. */
  savedAt = $state<number | null>(null)

  starting = $state(false)
  runError = $state<string | null>(null)

  loading = $state<string | null>(null)
  loadError = $state<string | null>(null)

  readonly validationStale = $derived(this.validation !== null && this.validatedScript !== this.script)
  /** The editor differs from the saved test (script, name or raw-samples setting). */
  readonly unsaved = $derived(hasUnsavedChanges({ ...this.#draftFields(), filesChanged: this.#filesChanged() }))
  /** Run starts the saved test (its history) rather than an unsaved copy. */
  readonly runsSavedTest = $derived(this.test !== null && this.script === this.savedScript && !this.#filesChanged())

  constructor(readonly projectId: string) {
    this.files = new FileSet(projectId)
  }

  // A method, not a field read: the derived fields above are declared before `files` is set.
  #filesChanged(): boolean {
    return this.files.changed
  }

  #draftFields() {
    return { script: this.script, name: this.name, test: this.test, savedScript: this.savedScript, rawSamples: this.rawSamples }
  }

  restoreDraft(): boolean {
    const draft = parseDraft(this.#storage(() => sessionStorage.getItem(draftKey(this.projectId))) ?? null)
    if (!draft) return false
    this.script = draft.script
    this.name = draft.name
    this.test = draft.test
    this.savedScript = draft.savedScript
    this.rawSamples = draft.rawSamples
    this.runRawSamples = draft.runRawSamples
    this.archive = draft.archive ?? null
    if (draft.files) this.files.restore(draft.files)
    return true
  }

  /** Sets the test's raw-samples setting, and the next run's with it. */
  setRawSamples(on: boolean): void {
    this.rawSamples = on
    this.runRawSamples = on
  }

  storeDraft(): void {
    const draft: Draft = { script: this.script, name: this.name, test: this.test, savedScript: this.savedScript, rawSamples: this.rawSamples, runRawSamples: this.runRawSamples, files: this.files.snapshot(), archive: this.archive }
    this.#storage(() => sessionStorage.setItem(draftKey(this.projectId), JSON.stringify(draft)))
  }

  async validate(): Promise<void> {
    const script = this.script
    this.validating = true
    this.validateError = null
    try {
      const files = await this.files.refs()
      const result = await api.scripts.validate.mutate({ script, projectId: this.projectId, ...(files.length > 0 ? { files } : {}) })
      this.validation = result
      this.validatedScript = script
    } catch (err) {
      this.validateError = describeError(err)
    } finally {
      this.validating = false
    }
  }

  async loadTemplate(id: string): Promise<void> {
    await this.#load(`template ${id}`, async () => {
      const template = await api.templates.byId.query({ id })
      this.#replace({ script: template.script, name: template.name, test: null, savedScript: null, rawSamples: false, runRawSamples: false, archive: null })
      this.files.reset([])
    })
  }

  async loadTest(id: string): Promise<void> {
    await this.#load('the test', async () => {
      const test = await api.tests.byId.query({ id })
      this.#replace({ script: test.script, name: test.name, test: { id: test.id, name: test.name, rawSamples: test.rawSamples }, savedScript: test.script, rawSamples: test.rawSamples, runRawSamples: test.rawSamples, archive: test.archive })
      this.files.reset(test.files)
    })
  }

  /** Saves the editor as the open test, or (asNew, or no test open) as a new test. */
  async save(asNew = false): Promise<boolean> {
    const name = this.name.trim()
    if (!name) {
      this.saveError = 'Give the test a name first.'
      return false
    }
    const script = this.script
    this.saving = true
    this.saveError = null
    try {
      const rawSamples = this.rawSamples
      let saved: RouterOutputs['tests']['byId']
      if (this.archive) {
        // The archive holds the script and files: only the name and settings change, or a new test runs the same archive.
        saved = this.test && !asNew ? await api.tests.update.mutate({ id: this.test.id, name, rawSamples }) : await api.tests.create.mutate({ projectId: this.projectId, name, archive: this.archive.sha256, rawSamples })
      } else {
        const files = await this.files.refs()
        saved = this.test && !asNew ? await api.tests.update.mutate({ id: this.test.id, name, script, rawSamples, files }) : await api.tests.create.mutate({ projectId: this.projectId, name, script, rawSamples, files })
      }
      this.files.markSaved(saved.files)
      this.archive = saved.archive
      this.test = { id: saved.id, name: saved.name, rawSamples: saved.rawSamples }
      this.rawSamples = saved.rawSamples
      this.savedScript = saved.script
      this.name = saved.name
      this.savedAt = Date.now()
      return true
    } catch (err) {
      this.saveError = describeError(err)
      // The API refuses scripts with errors; show them where they are.
      if (errorCode(err) === 'BAD_REQUEST' && /^script:/.test(this.saveError) && !this.archive) void this.validate()
      return false
    } finally {
      this.saving = false
    }
  }

  /** Starts a run; returns its id, or null (with `runError` set) when the API refused. */
  async run(location: string): Promise<string | null> {
    this.starting = true
    this.runError = null
    try {
      const files = this.runsSavedTest ? [] : await this.files.refs()
      const run = await api.runs.start.mutate(runInput(this.projectId, { ...this.#draftFields(), runRawSamples: this.runRawSamples, filesChanged: this.files.changed }, location, files))
      return run.id
    } catch (err) {
      this.runError = describeError(err)
      if (errorCode(err) === 'BAD_REQUEST' && /^script:/.test(this.runError)) void this.validate()
      return null
    } finally {
      this.starting = false
    }
  }

  /** Makes the open test run a newly uploaded archive (the API reads it and answers the test with its entry script). */
  async replaceArchive(sha256: string): Promise<void> {
    if (!this.test) return
    const saved = await api.tests.update.mutate({ id: this.test.id, archive: sha256 })
    this.#replace({ script: saved.script, name: saved.name, test: { id: saved.id, name: saved.name, rawSamples: saved.rawSamples }, savedScript: saved.script, rawSamples: saved.rawSamples, runRawSamples: saved.rawSamples, archive: saved.archive })
    this.files.reset(saved.files)
  }

  #replace(draft: Draft): void {
    this.archive = draft.archive ?? null
    this.script = draft.script
    this.name = draft.name
    this.test = draft.test
    this.savedScript = draft.savedScript
    this.rawSamples = draft.rawSamples
    this.runRawSamples = draft.runRawSamples
    this.validation = null
    this.validatedScript = null
    this.validateError = null
    this.saveError = null
    this.runError = null
    this.savedAt = null
  }

  async #load(what: string, load: () => Promise<void>): Promise<void> {
    this.loading = what
    this.loadError = null
    try {
      await load()
    } catch (err) {
      this.loadError = `Could not load ${what}: ${describeError(err)}`
    } finally {
      this.loading = null
    }
  }

  #storage<T>(use: () => T): T | undefined {
    try {
      return use()
    } catch {
      return undefined // storage can be unavailable (private mode, policies): the draft then lives as long as the page
    }
  }
}
