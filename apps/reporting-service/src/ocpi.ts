import { timingSafeEqual } from 'node:crypto';
import { tokenOfAuthorization, tokenSha256 } from '@csms/ocpi';

/**
 * Configured OCPI 2.2.1 credentials (`OCPI_TOKENS`: `name:sha256hex` of the token): parties connected outside the
 * credentials module's handshake, hub-like (they see every CDR). A party presents its token in the `Authorization`
 * header as `Token <base64 of the token>` (libs/ocpi `tokenOfAuthorization`). Only SHA-256s are configured.
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

/** The configured party whose token the header carries, or undefined (missing, not `Token <base64>`, unknown). */
export function ocpiPartyOf(header: string | undefined, parties: readonly OcpiParty[]): OcpiParty | undefined {
  const token = tokenOfAuthorization(header);
  return token === undefined ? undefined : configuredPartyOf(token, parties);
}

/** The configured party of a token (compared by SHA-256 in constant time), or undefined. */
export function configuredPartyOf(token: string, parties: readonly OcpiParty[]): OcpiParty | undefined {
  const digest = Buffer.from(tokenSha256(token), 'hex');
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

/** An OCPI refusal: the HTTP status and the OCPI status code of the envelope answered. */
export class OcpiError extends Error {
  constructor(
    readonly http: number,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Writes an OCPI response envelope (`data` when there is some, `status_code`, `status_message`, `timestamp`), its
 * numbers written digit for digit (`ocpiJson`).
 */
export function sendOcpi(
  res: { status(n: number): { type(t: string): { send(body: string): unknown } } },
  timestamp: string,
  http: number,
  statusCode: number,
  message: string,
  data?: unknown,
): void {
  res
    .status(http)
    .type('application/json; charset=utf-8')
    .send(
      `{${data === undefined ? '' : `"data":${ocpiJson(data)},`}"status_code":${statusCode},"status_message":${JSON.stringify(message)},"timestamp":"${timestamp}"}`,
    );
}
