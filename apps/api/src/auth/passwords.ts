// Password hashing with Node's scrypt (RFC 7914). Stored as `scrypt$N$r$p$<salt>$<hash>` (base64)
// so the cost can rise later without invalidating existing hashes.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))))

/** OWASP's scrypt minimum is N=2^17, r=8, p=1; 2^15 with r=8 costs ~50 ms on a 2-core VM. */
const COST = { N: 2 ** 15, r: 8, p: 1 }
const KEY_BYTES = 32

const maxmem = (N: number, r: number) => 128 * N * r * 2

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password.normalize('NFKC'), salt, KEY_BYTES, { ...COST, maxmem: maxmem(COST.N, COST.r) })
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), key.toString('base64')].join('$')
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const N = Number(n)
  const R = Number(r)
  const key = await scrypt(password.normalize('NFKC'), Buffer.from(salt, 'base64'), expected.length, { N, r: R, p: Number(p), maxmem: maxmem(N, R) })
  return timingSafeEqual(key, expected)
}

/** A hash to verify against when the account does not exist, so timing does not tell. */
let decoy: Promise<string> | undefined
export const decoyHash = () => (decoy ??= hashPassword(randomBytes(16).toString('hex')))
