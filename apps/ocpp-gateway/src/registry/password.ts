import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt parameters of new hashes (stored in the hash, so they can change later). */
const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { N: n, r, p, maxmem: 128 * n * r * 2 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P, KEYLEN);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * Verifies station passwords. A reconnect storm would cost one scrypt per connection; successful
 * verifications are remembered (by a SHA-256 of hash and password, never the password) so that a station
 * reconnecting with the same password costs a hash lookup.
 */
export class PasswordVerifier {
  private readonly verified = new Set<string>();
  constructor(private readonly maxRemembered = 100_000) {}

  async verify(stored: string, password: string): Promise<boolean> {
    const memo = createHash('sha256').update(stored).update('\0').update(password).digest('base64url');
    if (this.verified.has(memo)) return true;
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
    const [, n, r, p, salt, hash] = parts;
    const expected = Buffer.from(hash, 'base64url');
    const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p), expected.length);
    const ok = key.length === expected.length && timingSafeEqual(key, expected);
    if (ok) {
      if (this.verified.size >= this.maxRemembered) this.verified.clear();
      this.verified.add(memo);
    }
    return ok;
  }
}
