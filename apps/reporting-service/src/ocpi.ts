import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * OCPI 2.2.1 credentials for the CDRs sender interface. A party presents its credentials token in the
 * `Authorization` header as `Token <base64 of the token>` (OCPI 2.2.1 encodes the token in Base64; 2.1.1 sent it
 * as it is, which is not accepted here). Tokens are configured (`OCPI_TOKENS`: `name:sha256hex` of the token), so
 * only their SHA-256 is ever stored; the registration handshake of the credentials module is not built.
 */
export interface OcpiParty {
  name: string;
  sha256: string;
}

export function parseOcpiTokens(value: string | undefined): OcpiParty[] {
  if (!value || value.trim() === '') return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item, i) => {
      const [name, sha256, ...rest] = item.split(':');
      if (rest.length > 0 || !name || !sha256 || !/^[0-9a-f]{64}$/.test(sha256))
        throw new Error(`OCPI_TOKENS entry ${i + 1} must be name:sha256hex (64 lower-case hex characters)`);
      return { name, sha256 };
    });
}

/** The party whose token the header carries, or undefined (missing, not `Token <base64>`, unknown). */
export function ocpiPartyOf(header: string | undefined, parties: readonly OcpiParty[]): OcpiParty | undefined {
  const m = /^Token ([A-Za-z0-9+/]+={0,2})$/.exec(header ?? '');
  if (!m) return undefined;
  const token = Buffer.from(m[1], 'base64');
  if (token.length === 0 || token.toString('base64').replace(/=+$/, '') !== m[1].replace(/=+$/, '')) return undefined;
  const digest = createHash('sha256').update(token).digest();
  return parties.find((p) => {
    const want = Buffer.from(p.sha256, 'hex');
    return want.length === digest.length && timingSafeEqual(want, digest);
  });
}

/** OCPI DateTime (UTC; the `Z` may be left out, fractions of a second allowed) as epoch ms, or null. */
export function parseOcpiDateTime(v: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z?$/.exec(v);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) + (m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0);
  const back = new Date(Date.UTC(y, mo - 1, d));
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms;
}

/** The fields of an OCPI CDR that OCPI types as `number`, held as decimal text here. */
const NUMBER_FIELDS = new Set(['excl_vat', 'incl_vat', 'total_energy', 'total_time', 'total_parking_time', 'volume']);
const DECIMAL = /^-?\d+(\.\d+)?$/;
const MARK = '\u0000n:';

/**
 * JSON of OCPI objects with the decimal texts OCPI types as numbers written as JSON numbers, digit for digit (no
 * binary float on the way: "7.10" is written 7.10, never 7.1 or 7.0999999).
 */
export function ocpiJson(value: unknown): string {
  const text = JSON.stringify(value, (key, v: unknown) =>
    typeof v === 'string' && NUMBER_FIELDS.has(key) && DECIMAL.test(v) ? `${MARK}${v}` : v,
  );
  return text.replace(/"\\u0000n:(-?\d+(?:\.\d+)?)"/g, '$1');
}
