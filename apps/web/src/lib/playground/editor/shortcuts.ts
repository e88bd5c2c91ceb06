// The playground's keyboard shortcuts, decided from a key event alone so they are testable:
// Ctrl+Enter (⌘Enter on a Mac) runs, Ctrl+S (⌘S) validates. Ctrl+S is the one a person
// presses out of habit after editing, and validating is what they want then; the browser's
// "save page" is never wanted here.

export type PlaygroundAction = 'run' | 'validate'

export interface KeyLike {
  key: string
  ctrlKey: boolean
  metaKey: boolean
  shiftKey: boolean
  altKey: boolean
}

export function shortcutAction(event: KeyLike, mac: boolean): PlaygroundAction | null {
  const mod = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey
  if (!mod || event.altKey || event.shiftKey) return null
  if (event.key === 'Enter') return 'run'
  if (event.key === 's' || event.key === 'S') return 'validate'
  return null
}

export function shortcutLabel(action: PlaygroundAction, mac: boolean): string {
  const key = action === 'run' ? 'Enter' : 'S'
  return mac ? `⌘${key}` : `Ctrl+${key}`
}

/** Whether this browser runs on an Apple platform, where ⌘ is the command key. */
export function isApplePlatform(nav: { platform?: string; userAgent?: string } | undefined = globalThis.navigator): boolean {
  return /Mac|iPhone|iPad|iPod/i.test(nav?.platform || nav?.userAgent || '')
}
