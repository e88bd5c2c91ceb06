import { describe, expect, it } from 'vitest'
import { isApplePlatform, shortcutAction, shortcutLabel, type KeyLike } from './shortcuts.ts'

const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods })

describe('shortcutAction', () => {
  it('runs on Ctrl+Enter and validates on Ctrl+S elsewhere than on a Mac', () => {
    expect(shortcutAction(key('Enter', { ctrlKey: true }), false)).toBe('run')
    expect(shortcutAction(key('s', { ctrlKey: true }), false)).toBe('validate')
    expect(shortcutAction(key('S', { ctrlKey: true }), false)).toBe('validate') // caps lock
  })

  it('uses ⌘ on a Mac, where Ctrl+Enter is left to the editor', () => {
    expect(shortcutAction(key('Enter', { metaKey: true }), true)).toBe('run')
    expect(shortcutAction(key('s', { metaKey: true }), true)).toBe('validate')
    expect(shortcutAction(key('Enter', { ctrlKey: true }), true)).toBeNull()
    expect(shortcutAction(key('Enter', { metaKey: true }), false)).toBeNull()
  })

  it('leaves plain typing and other combinations alone', () => {
    expect(shortcutAction(key('Enter'), false)).toBeNull()
    expect(shortcutAction(key('s'), false)).toBeNull()
    expect(shortcutAction(key('Enter', { ctrlKey: true, shiftKey: true }), false)).toBeNull()
    expect(shortcutAction(key('s', { ctrlKey: true, altKey: true }), false)).toBeNull()
    expect(shortcutAction(key('Enter', { ctrlKey: true, metaKey: true }), false)).toBeNull()
    expect(shortcutAction(key('z', { ctrlKey: true }), false)).toBeNull()
  })
})

describe('shortcutLabel', () => {
  it('names the keys the way the platform does', () => {
    expect(shortcutLabel('run', false)).toBe('Ctrl+Enter')
    expect(shortcutLabel('validate', true)).toBe('⌘S')
    expect(isApplePlatform({ platform: 'MacIntel' })).toBe(true)
    expect(isApplePlatform({ platform: 'Linux x86_64' })).toBe(false)
  })
})
