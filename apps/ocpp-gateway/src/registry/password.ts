import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt parameters of new hashes (stored in the hash, so they can change later). */
const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { N: n, r, p, maxmem: 128 * n * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/**
 * `scrypt$N$r$p$salt$hash` (base64url). `n` is the cost of new hashes; only the benchmark passes another one
 * (to set up thousands of stations in minutes: the cost is stored in the hash and verification reads it there).
 */
export async function hashPassword(password: string, n = N): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, n, R, P, KEYLEN);
  return `scrypt$${n}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * A random station password: 20 bytes from the CSPRNG as 40 hexadecimal digits (160 bits). Hex digits are
 * alphanumeric, so the password is an OCPP 2.0.1 `passwordString` of the 16 to 40 characters BasicAuthPassword
 * takes, and exactly what the OCPP 1.6 security whitepaper describes for AuthorizationKey (up to 20 bytes,
 * "represented as a string of up to 40 hexadecimal digits").
 */
export function generatePassword(): string {
  return randomBytes(20).toString('hex');
}

/** A verification as it is shared between the processes of one gateway (`GATEWAY_WORKERS`): no password in it. */
export interface SharedVerification {
  stationId: string;
  hash: string;
  /** base64 of the HMAC-SHA256 under the key the processes share */
  digest: string;
}

/** How a password check was answered: by scrypt, or from the verifications remembered. */
export type PasswordCheck = { ok: boolean; cached: boolean };

interface Verified {
  /** the stored hash the password was verified against: another hash (a password change) invalidates it */
  hash: string;
  /** HMAC-SHA256 of the verified password under this process's random key (never the password itself) */
  digest: Buffer;
}

/**
 * Verifies station passwords against their stored scrypt hash. A reconnect storm would cost one scrypt
 * (~40 ms of a libuv thread) per connection, so a successful verification is remembered per station: the
 * stored hash it was checked against and an HMAC-SHA256 of the password under a key drawn at random when the
 * process starts (a dump of the memory gives no password and no offline-guessable fast hash). A later check of
 * the same station against the **same stored hash** compares the presented password's HMAC with it in constant
 * time: equal means this is the password scrypt accepted; different means it is not (one hash has one password),
 * answered without computing scrypt. A new stored hash (password changed, station re-registered) finds the
 * entry stale: it is dropped and scrypt decides. At most `maxRemembered` stations (oldest dropped first).
 *
 * The workers of one gateway (node:cluster) share a key drawn by the primary, and tell each other what they
 * verified (`onVerified` / `remember`, through the primary): a station reconnecting to another worker than the
 * one that checked it first costs no scrypt either.
 */
export class PasswordVerifier {
  private readonly verified = new Map<string, Verified>();
  /** told of each verification scrypt made here (to share it) */
  onVerified?: (v: SharedVerification) => void;

  constructor(
    private readonly key: Buffer = randomBytes(32),
    private readonly maxRemembered = 100_000,
  ) {}

  /** A verification another process of this gateway made (with the same key). */
  remember(v: SharedVerification): void {
    this.put(v.stationId, { hash: v.hash, digest: Buffer.from(v.digest, 'base64') });
  }

  private put(stationId: string, v: Verified): void {
    this.verified.delete(stationId);
    this.verified.set(stationId, v);
    if (this.verified.size > this.maxRemembered) this.verified.delete(this.verified.keys().next().value as string);
  }

  get remembered(): number {
    return this.verified.size;
  }

  private digest(stationId: string, password: string): Buffer {
    return createHmac('sha256', this.key).update(stationId).update('\0').update(password).digest();
  }

  async verify(stationId: string, stored: string, password: string): Promise<PasswordCheck> {
    const known = this.verified.get(stationId);
    if (known && known.hash === stored)
      return { ok: timingSafeEqual(known.digest, this.digest(stationId, password)), cached: true };
    if (known) this.verified.delete(stationId);
    const ok = await verifyScrypt(stored, password);
    if (ok) {
      const digest = this.digest(stationId, password);
      this.put(stationId, { hash: stored, digest });
      this.onVerified?.({ stationId, hash: stored, digest: digest.toString('base64') });
    }
    return { ok, cached: false };
  }
}

/** The full check: scrypt of the presented password with the stored salt and parameters. */
export async function verifyScrypt(stored: string, password: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(
    password,
    Buffer.from(salt, 'base64url'),
    Number(n),
    Number(r),
    Number(p),
    expected.length,
  );
  return key.length === expected.length && timingSafeEqual(key, expected);
}
