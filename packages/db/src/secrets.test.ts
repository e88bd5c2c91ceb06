import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decryptSecret, encryptSecret, generateSecretsKey, parseSecretsKey } from './secrets.ts'

const key = parseSecretsKey(generateSecretsKey())

describe('secrets encryption', () => {
  it('round-trips, with a fresh IV each time and no plaintext in the stored form', () => {
    const a = encryptSecret(key, 'p@ss wörd:with:colons')
    const b = encryptSecret(key, 'p@ss wörd:with:colons')
    expect(a).toMatch(/^v1:[^:]+:[^:]+:[^:]+$/)
    expect(a).not.toBe(b)
    expect(a).not.toContain('p@ss')
    expect(decryptSecret(key, a)).toBe('p@ss wörd:with:colons')
    expect(decryptSecret(key, encryptSecret(key, ''))).toBe('')
  })

  it('refuses a different key', () => {
    const other = parseSecretsKey(generateSecretsKey())
    expect(() => decryptSecret(other, encryptSecret(key, 'x'))).toThrow(/SECRETS_KEY differs|altered/)
  })

  it('refuses a tampered ciphertext, tag or iv', () => {
    const [v, iv, tag, ct] = encryptSecret(key, 'hunter22').split(':') as [string, string, string, string]
    const flip = (b64: string) => {
      const buf = Buffer.from(b64, 'base64')
      buf[0] = buf[0]! ^ 1
      return buf.toString('base64')
    }
    for (const forged of [[v, iv, tag, flip(ct)], [v, iv, flip(tag), ct], [v, flip(iv), tag, ct]]) {
      expect(() => decryptSecret(key, forged.join(':'))).toThrow(/could not be decrypted/)
    }
    expect(() => decryptSecret(key, `v2:${iv}:${tag}:${ct}`)).toThrow(/known format/)
    expect(() => decryptSecret(key, 'hunter22')).toThrow(/known format/)
  })

  it('accepts 32-byte keys as hex or base64 and names the variable otherwise', () => {
    const raw = randomBytes(32)
    expect(parseSecretsKey(raw.toString('hex')).equals(raw)).toBe(true)
    expect(parseSecretsKey(raw.toString('base64')).equals(raw)).toBe(true)
    expect(parseSecretsKey(raw.toString('base64url')).equals(raw)).toBe(true)
    for (const bad of ['', 'short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64')]) {
      expect(() => parseSecretsKey(bad)).toThrow(/SECRETS_KEY must be 32 bytes/)
    }
  })
})
