// Encryption at rest for test secrets: AES-256-GCM under SECRETS_KEY, stored as
// `v1:<iv b64>:<tag b64>:<ciphertext b64>`. The version prefix leaves room for key rotation.
// Server-only (node:crypto): the API encrypts, the runner decrypts just before k6 starts.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16

export type SecretsKey = Buffer

export class SecretsKeyError extends Error {}

/** Accepts 32 bytes as 64 hex characters or base64 (standard or URL-safe). */
export function parseSecretsKey(text: string): SecretsKey {
  const t = text.trim()
  let key: Buffer | undefined
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex')
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (key?.length !== 32) {
    throw new SecretsKeyError('SECRETS_KEY must be 32 bytes, as 64 hex characters or base64 (e.g. the output of `openssl rand -base64 32`)')
  }
  return key
}

/** A fresh random key in the base64 form parseSecretsKey accepts. */
export function generateSecretsKey(): string {
  return randomBytes(32).toString('base64')
}

export function encryptSecret(key: SecretsKey, plaintext: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join(':')
}

/** The plaintext, or an error that says why without quoting anything of the stored value. */
export function decryptSecret(key: SecretsKey, stored: string): string {
  const parts = stored.split(':')
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretsKeyError('the stored secret is not in a known format (expected v1:iv:tag:ciphertext)')
  const [, iv, tag, ct] = parts.map((p) => Buffer.from(p, 'base64')) as [Buffer, Buffer, Buffer, Buffer]
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretsKeyError('the stored secret is not in a known format (bad iv or tag length)')
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8')
  } catch {
    throw new SecretsKeyError('a secret could not be decrypted: SECRETS_KEY differs from the key it was stored with, or the stored value was altered')
  }
}
