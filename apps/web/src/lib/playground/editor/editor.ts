// The script editor: CodeMirror 6 with the TypeScript grammar (a superset of the JavaScript
// k6 scripts are usually written in), k6 completions and hover hints, and validation findings
// as underlines and gutter marks. Colours come from CSS variables (app.css), so the editor
// follows the page's light or dark scheme without a second theme.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete'
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands'
import { javascript } from '@codemirror/lang-javascript'
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language'
import { lintGutter, setDiagnostics } from '@codemirror/lint'
import { Compartment, EditorSelection, EditorState } from '@codemirror/state'
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, highlightSpecialChars, keymap, lineNumbers } from '@codemirror/view'
import { tags as t } from '@lezer/highlight'
import { findingRange, toDiagnostics, type Validation } from './diagnostics.ts'
import { k6Language } from './k6-language.ts'

const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.modifier, t.controlKeyword, t.operatorKeyword, t.definitionKeyword, t.moduleKeyword], color: 'var(--code-keyword)' },
  { tag: [t.string, t.special(t.string), t.regexp], color: 'var(--code-string)' },
  { tag: [t.number, t.bool, t.null, t.atom], color: 'var(--code-number)' },
  { tag: [t.comment, t.lineComment, t.blockComment], color: 'var(--code-comment)', fontStyle: 'italic' },
  { tag: [t.function(t.variableName), t.function(t.propertyName)], color: 'var(--code-function)' },
  { tag: [t.typeName, t.className, t.namespace], color: 'var(--code-type)' },
  { tag: [t.definition(t.variableName), t.definition(t.propertyName)], color: 'var(--code-definition)' },
  { tag: t.propertyName, color: 'var(--code-property)' },
  { tag: t.invalid, color: 'var(--bad)' },
])

const theme = EditorView.theme({
  '&': { color: 'var(--fg)', backgroundColor: 'var(--bg)', fontSize: '0.875rem', height: '100%' },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '-1px' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5' },
  '.cm-content': { caretColor: 'var(--fg)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--fg)' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--code-selection)' },
  '.cm-gutters': { backgroundColor: 'var(--card)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: 'var(--code-active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--code-active-line)', color: 'var(--fg)' },
  '.cm-matchingBracket': { backgroundColor: 'var(--code-selection)', outline: '1px solid var(--border)' },
  '.cm-tooltip': { backgroundColor: 'var(--card)', color: 'var(--fg)', border: '1px solid var(--border)', borderRadius: '6px', maxWidth: 'min(36rem, 90vw)' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: 'var(--code-selection)', color: 'var(--fg)' },
  '.cm-completionDetail': { color: 'var(--muted)', fontStyle: 'normal', marginLeft: '0.75em' },
  '.cm-completionInfo': { padding: '0.5rem 0.75rem' },
  '.cm-k6-card': { padding: '0.4rem 0.6rem', fontSize: '0.85rem', lineHeight: '1.4' },
  '.cm-k6-card code': { display: 'block', whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' },
  '.cm-k6-card p': { margin: '0.35rem 0 0' },
  '.cm-k6-card a': { display: 'inline-block', marginTop: '0.35rem' },
  '.cm-diagnostic': { padding: '0.3rem 0.6rem' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--bad)' },
  '.cm-diagnostic-warning': { borderLeftColor: 'var(--warn)' },
})

export interface ScriptEditor {
  readonly view: EditorView
  /** Replaces the whole script (undoable with Ctrl+Z). */
  setScript(script: string): void
  /** Shows a validation result as underlines and gutter marks; null clears them. */
  showFindings(validation: Validation | null): void
  /** Moves the cursor to a 1-based line and column, scrolls there and focuses the editor. */
  goTo(line: number, column: number): void
  setReadOnly(readOnly: boolean): void
  destroy(): void
}

export interface ScriptEditorOptions {
  parent: HTMLElement
  script: string
  readOnly: boolean
  /** A label for screen readers (the editor is a contenteditable, not a labelled textarea). */
  label: string
  /** `script` (default): k6 script support (TypeScript grammar, k6 hints); `plain`: a data file's text. */
  language?: 'script' | 'plain'
  onChange: (script: string) => void
}

export function createScriptEditor(opts: ScriptEditorOptions): ScriptEditor {
  const readOnly = new Compartment()
  const readOnlyState = (on: boolean) => [EditorState.readOnly.of(on), EditorView.contentAttributes.of({ 'aria-readonly': String(on) })]
  const view = new EditorView({
    parent: opts.parent,
    state: EditorState.create({
      doc: opts.script,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        syntaxHighlighting(highlight),
        ...(opts.language === 'plain' ? [] : [javascript({ typescript: true }), k6Language(), autocompletion({ activateOnTyping: true })]),
        lintGutter(),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ 'aria-label': opts.label }),
        readOnly.of(readOnlyState(opts.readOnly)),
        theme,
        EditorView.updateListener.of((update) => {
          if (update.docChanged) opts.onChange(update.state.doc.toString())
        }),
      ],
    }),
  })

  return {
    view,
    setScript(script) {
      if (script === view.state.doc.toString()) return
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: script }, selection: EditorSelection.cursor(0), scrollIntoView: true })
    },
    showFindings(validation) {
      view.dispatch(setDiagnostics(view.state, validation ? toDiagnostics(view.state.doc, validation) : []))
    },
    goTo(line, column) {
      const { from, to } = findingRange(view.state.doc, { line, column })
      view.dispatch({ selection: EditorSelection.range(from, to), scrollIntoView: true })
      view.focus()
    },
    setReadOnly(on) {
      view.dispatch({ effects: readOnly.reconfigure(readOnlyState(on)) })
    },
    destroy() {
      view.destroy()
    },
  }
}
